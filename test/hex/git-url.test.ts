import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPackage } from "../../src/hex/registry.js";
import { parsePublicKey } from "../../src/hex/signing.js";
import { FsStore } from "../../src/store/fs-store.js";
import { runCli } from "../support/cli.js";
import { GIT_ENV, tempDir } from "../support/git-repo.js";
import { makeRebarProject, newKeyPem, readObject } from "./support/fixtures.js";
import { freePort } from "../support/net.js";

/** A free loopback port (git daemon has no "pick one for me"). */
const tmp = tempDir("hex-git-url-");
let daemon: ChildProcess;
let url = "";

beforeAll(async () => {
  makeRebarProject(path.join(tmp.dir, "repos/remote_pkg"), { app: "remote_pkg", vsn: "git", tag: "v1.2.3" });
  const port = await freePort();
  daemon = spawn("git", ["daemon", "--verbose", "--reuseaddr", "--export-all", `--base-path=${path.join(tmp.dir, "repos")}`, "--listen=127.0.0.1", `--port=${port}`, path.join(tmp.dir, "repos")], { env: GIT_ENV, stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    daemon.stderr!.on("data", (c: Buffer) => {
      if (c.toString().includes("Ready to rumble")) resolve();
    });
    daemon.on("exit", (code) => reject(new Error(`git daemon exited with ${code}`)));
  });
  url = `git://127.0.0.1:${port}/remote_pkg`;
});
afterAll(() => {
  daemon?.kill("SIGTERM");
  tmp.cleanup();
});

it("publishes from a git URL: clones, reads the tag from git objects and builds the package", async () => {
  const key = newKeyPem();
  const keyFile = path.join(tmp.dir, "key.pem");
  writeFileSync(keyFile, key.privatePem);
  const storeDir = path.join(tmp.dir, "store");
  const env = { ...process.env, PKGPUB_GIT_CACHE_DIR: path.join(tmp.dir, "cache") };
  const r = await runCli(["hex", "publish", "--repo", "acme", "--store", storeDir, "--private-key", keyFile, "--source", url, "--ref", "v1.2.3"], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("remote_pkg 1.2.3: published in repository acme");
  const pkg = openPackage(await readObject(new FsStore(storeDir), "repos/acme/packages/remote_pkg"), parsePublicKey(key.spkiPem, "k"), "acme", "remote_pkg", "packages/remote_pkg");
  expect(pkg.releases.map((x) => x.version)).toEqual(["1.2.3"]);
});
