// Package trees from hostile repositories (issue 11's extra checks): symlinks that point out of
// the tree are packaged as links, never followed (the tarball holds the link, not the file it
// names), and the tarball still has the git tree's hash, as Pkg checks it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { GitRepository } from "../../src/git/repository.js";
import { PACKAGE_RULES } from "../../src/julia/tree-model.js";
import { buildTreeTarball } from "../../src/publish/julia-tarball.js";
import { makeRepo, tempDir } from "../support/git-repo.js";

describe("hostile package trees", () => {
  const tmp = tempDir("pkgpub-hostile-tree-");
  afterAll(tmp.cleanup);

  it("symlinks out of the tree are kept as links, their targets never read", async () => {
    const outside = path.join(tmp.dir, "outside-secret.txt");
    execFileSync("sh", ["-c", `printf 'TOP-SECRET-OUTSIDE' > ${outside}`]);
    const { dir, tree } = makeRepo(path.join(tmp.dir, "pkg"), {
      "Project.toml": 'name = "Evil"\n',
      "abs": { symlink: outside },
      "up": { symlink: "../../../../outside-secret.txt" },
      "etc": { symlink: "/etc/passwd" },
      "deep/loop": { symlink: "../deep/loop" },
    });
    const repo = await GitRepository.open(dir);
    try {
      const file = path.join(tmp.dir, "evil.tar.gz");
      await buildTreeTarball(repo, tree, file, undefined, PACKAGE_RULES);
      const tar = gunzipSync(readFileSync(file));
      expect(tar.includes(Buffer.from("TOP-SECRET-OUTSIDE"))).toBe(false);
      expect(tar.includes(Buffer.from("root:"))).toBe(false);
      const listing = execFileSync("tar", ["-tvf", "-"], { input: tar, encoding: "utf8" });
      expect(listing).toMatch(new RegExp(`abs -> ${outside.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
      expect(listing).toMatch(/etc -> \/etc\/passwd/);
      expect(listing).toMatch(/deep\/loop -> \.\.\/deep\/loop/);
    } finally {
      repo.close();
    }
  });
});

describe("a very large package tree", () => {
  const tmp = tempDir("pkgpub-large-tree-");
  afterAll(tmp.cleanup);

  it("20,000 files in 200 directories (and one 200 levels deep) package and verify by tree hash", async () => {
    const files: Record<string, string> = { "Project.toml": 'name = "Big"\n' };
    for (let d = 0; d < 200; d++) for (let f = 0; f < 100; f++) files[`d${d}/f${f}.txt`] = `${d}-${f}\n`;
    files[`${Array.from({ length: 200 }, (_, i) => `n${i}`).join("/")}/leaf.txt`] = "deep\n";
    const { dir, tree } = makeRepo(path.join(tmp.dir, "big"), files);
    const repo = await GitRepository.open(dir);
    try {
      const file = path.join(tmp.dir, "big.tar.gz");
      const started = Date.now();
      await buildTreeTarball(repo, tree, file, undefined, PACKAGE_RULES);
      console.log(`[figures] 20,001-file tree packaged and verified in ${Date.now() - started} ms`);
      const listing = execFileSync("tar", ["-tzf", file], { encoding: "utf8", maxBuffer: 1 << 26 });
      expect(listing.split("\n").filter((l) => l.endsWith(".txt")).length).toBe(20_001);
    } finally {
      repo.close();
    }
  }, 120_000);
});
