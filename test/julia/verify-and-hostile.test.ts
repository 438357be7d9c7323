import { createHash } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { commitFiles, git, tempDir } from "../support/git-repo.js";
import { FOO_UUID, fooFiles, makeRegistryFixture, versionsToml, type RegistryFixture } from "./fixtures.js";

/** A gzip tarball with exactly these raw members, made without our own writer. */
async function craftTarball(members: Array<{ name: string; type?: "file" | "symlink" | "directory"; linkname?: string; content?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const m of members) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: m.name, type: m.type ?? "file", linkname: m.linkname, mode: 0o644 }, m.content ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

describe("julia publish: hostile artifacts, and pkgpub verify", () => {
  const tmp = tempDir();
  let fx: RegistryFixture;
  let storeDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fx = await makeRegistryFixture(tmp.dir);
    storeDir = path.join(tmp.dir, "store");
    env = { ...process.env, PKGPUB_GIT_CACHE_DIR: path.join(tmp.dir, "cache") };
    const r = await runCli(["julia", "publish", "--registry", fx.dir, "--store", storeDir], env);
    expect(r.code).toBe(0);
  });
  afterAll(async () => {
    await fx?.artifactServer.close();
    tmp.cleanup();
  });

  it("verify passes on a freshly published store", async () => {
    const r = await runCli(["verify", "--store", storeDir], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5 objects checked in directory .*: all good/);
  });

  for (const [label, members, reason] of [
    ["a member escaping the root", [{ name: "../evil", content: "x" }], /path contains '\.\.' component/],
    ["an absolute member", [{ name: "/etc/evil", content: "x" }], /path is absolute/],
    [
      "a member written through a symlink",
      [{ name: "lib", type: "symlink", linkname: "/tmp" }, { name: "lib/evil", content: "x" }],
      /points outside the artifact|beneath a symlink/,
    ],
  ] as const) {
    it(`an artifact with ${label} is refused and its package not stored`, async () => {
      const file = path.join(tmp.dir, "artifacts", `hostile-${label.replace(/\W+/g, "-")}.tar.gz`);
      const bytes = await craftTarball(members as never);
      writeFileSync(file, bytes);
      const sha = createHash("sha256").update(bytes).digest("hex");
      const artifacts = `[hostile]\ngit-tree-sha1 = "${"3".repeat(40)}"\n\n[[hostile.download]]\nurl = "${fx.artifactServer.url}/${path.basename(file)}"\nsha256 = "${sha}"\n`;
      const v = commitFiles(fx.fooRepo, fooFiles(`0.9.${label.length}`, artifacts), `hostile ${label}`);
      commitFiles(fx.dir, { "F/Foo/Versions.toml": versionsToml([{ version: `0.9.${label.length}`, tree: v.tree }]) }, `hostile ${label}`);
      const r = await runCli(["julia", "publish", "--registry", fx.dir, "--store", storeDir], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`failed: Foo v0\\.9\\.${label.length}: artifact hostile`));
      expect(r.stderr).toMatch(reason);
      const objects = await runCli(["verify", "--store", storeDir], env);
      // the registry now names a version whose package could not be built: verify says so
      expect(objects.code).toBe(1);
      expect(objects.stderr).toContain(`package/${FOO_UUID}/${v.tree}: missing (Foo v0.9.${label.length})`);
    });
  }

  it("verify names a corrupted or missing object", async () => {
    git(fx.dir, "reset", "-q", "--hard", git(fx.dir, "rev-list", "--max-parents=0", "HEAD"));
    expect((await runCli(["julia", "publish", "--registry", fx.dir, "--store", storeDir, "--force"], env)).code).toBe(0);
    const pkgKey = `package/${FOO_UUID}/${fx.fooTrees["0.2.0"]}`;
    // another valid tarball in its place: readable, but the wrong tree
    const other = `package/${FOO_UUID}/${fx.fooTrees["0.1.0"]}`;
    writeFileSync(path.join(storeDir, pkgKey), (await import("node:fs")).readFileSync(path.join(storeDir, other)));
    rmSync(path.join(storeDir, "artifact", fx.artifact.treeHash));
    const r = await runCli(["verify", "--store", storeDir], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`problem: ${pkgKey}: tree hash is ${fx.fooTrees["0.1.0"]} (Foo v0.2.0)`);
    expect(r.stderr).toContain(`problem: artifact/${fx.artifact.treeHash}: missing (artifact libdemo of Foo v0.1.0)`);
  });
});
