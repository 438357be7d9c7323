// The npm package as a user gets it: `npm pack`, then an install of that tarball in a fresh
// folder, then the installed `pkgpub` run. Installed offline from npm's cache: the lock file
// written here pins the project's own resolved dependencies (npm ci filled the cache with them),
// so no registry metadata is needed.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/git-repo.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

interface LockEntry { dev?: boolean; [k: string]: unknown }

describe("the npm package", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  let tarball = "";
  let files: string[] = [];
  let installLog = "";
  const bin = () => path.join(tmp.dir, "node_modules/.bin/pkgpub");
  const run = (...args: string[]) => execFileSync(bin(), args, { cwd: tmp.dir, encoding: "utf8" });

  beforeAll(() => {
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", tmp.dir], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    tarball = packed[0].filename;
    files = packed[0].files.map((f: { path: string }) => f.path);
    const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8"));
    const me = lock.packages[""];
    const packages: Record<string, unknown> = {
      "": { dependencies: { pkgpub: `file:${tarball}` } },
      "node_modules/pkgpub": { version: me.version, resolved: `file:${tarball}`, license: me.license, dependencies: me.dependencies, bin: me.bin, engines: me.engines },
    };
    for (const [k, v] of Object.entries(lock.packages as Record<string, LockEntry>)) if (k.startsWith("node_modules/") && !v.dev) packages[k] = v;
    // npm applies overrides only from the installing project: the locked tree (content-type 2 under
    // @octokit/request) is the one a user gets with the overrides the README gives for Node 20.
    writeFileSync(path.join(tmp.dir, "package.json"), JSON.stringify({ private: true, dependencies: { pkgpub: `file:${tarball}` }, overrides: pkg.overrides }));
    writeFileSync(path.join(tmp.dir, "package-lock.json"), JSON.stringify({ name: "fresh", lockfileVersion: 3, requires: true, packages }));
    // npm's warnings (EBADENGINE among them) go to stderr: keep both streams.
    const ci = spawnSync("npm", ["ci", "--offline", "--no-audit", "--no-fund"], { cwd: tmp.dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (ci.status !== 0) throw new Error(`npm ci failed: ${ci.stderr}`);
    installLog = `${ci.stdout}${ci.stderr}`;
  }, 240_000);

  it("ships the built CLI, the LICENSE and the manifest, and no tests or sources", () => {
    expect(files).toContain("build/cli.js");
    expect(files).toContain("bin/pkgpub.mjs");
    expect(files).toContain("LICENSE");
    expect(files).toContain("app.yml");
    expect(files).toContain("app.pull-request.yml");
    expect(files.filter((f) => f.startsWith("test/") || f.startsWith("src/"))).toEqual([]);
    expect(readFileSync(path.join(root, "LICENSE"), "utf8")).toMatch(new RegExp(`^${pkg.license} License`));
    expect(readdirSync(tmp.dir)).toContain(tarball);
  });

  it("runs once installed: --help lists the commands, --version prints the package version", () => {
    expect(installLog).toMatch(/added \d+ packages/);
    expect(installLog).not.toContain("EBADENGINE");
    expect(run("--help")).toContain("pkgpub serve");
    expect(run("--version")).toBe(`${pkg.version}\n`);
    // Commands load their modules lazily: a missing runtime dependency shows only when one runs.
    expect(run("serve", "--help")).toContain("--port");
    expect(run("app", "--help")).toContain("WEBHOOK_SECRET");
    expect(run("hex", "keygen", "--help")).toContain("hex keygen");
  });
});
