import path from "node:path";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { GitRepository } from "../../src/git/repository.js";
import { PACKAGE_RULES } from "../../src/julia/tree-model.js";
import { buildTreeTarball, verifyTarball } from "../../src/publish/julia-tarball.js";
import { makeRepo, commitFiles, tempDir } from "../support/git-repo.js";

describe("tarballs are verified before anything uploads them", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it("a tarball whose content is not the claimed tree is an error", async () => {
    const dir = path.join(tmp.dir, "repo");
    const a = makeRepo(dir, { "a.txt": "a\n" });
    const b = commitFiles(dir, { "b.txt": "b\n" }, "b");
    const repo = await GitRepository.open(dir);
    try {
      // the entries of tree A, built as if they were tree B
      const listingA = await repo.lsTree(a.tree);
      const file = path.join(tmp.dir, "wrong.tar.gz");
      await expect(buildTreeTarball(repo, b.tree, file, listingA, PACKAGE_RULES)).rejects.toThrow(
        `tarball tree hash ${a.tree} does not match ${b.tree}`,
      );
      const good = path.join(tmp.dir, "good.tar.gz");
      await buildTreeTarball(repo, a.tree, good, undefined, PACKAGE_RULES);
      await expect(verifyTarball(good, b.tree, PACKAGE_RULES)).rejects.toThrow("does not match");
      await verifyTarball(good, a.tree, PACKAGE_RULES);
      expect(existsSync(good)).toBe(true);
    } finally {
      repo.close();
    }
  });

  it("a git submodule cannot be packaged, and says where it is", async () => {
    const dir = path.join(tmp.dir, "with-submodule");
    makeRepo(dir, { "x.txt": "x\n" });
    const { git } = await import("../support/git-repo.js");
    git(dir, "update-index", "--add", "--cacheinfo", `160000,${"1".repeat(40)},vendor/lib`);
    git(dir, "commit", "-q", "-m", "gitlink");
    const tree = git(dir, "rev-parse", "HEAD^{tree}");
    const repo = await GitRepository.open(dir);
    try {
      await expect(buildTreeTarball(repo, tree, path.join(tmp.dir, "sub.tar.gz"))).rejects.toThrow("vendor/lib is a git submodule");
    } finally {
      repo.close();
    }
  });
});
