import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/git-repo.js";
import { treeOfTarball } from "../julia/fixtures.js";
import { freePort } from "../support/net.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("npm start (scripts/quickstart.mjs)", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it("publishes the examples and serves them: /registries, the registry and both packages", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(root, "scripts/quickstart.mjs")], {
      cwd: root,
      env: { ...process.env, PKGPUB_STORE: path.join(tmp.dir, "data"), PKGPUB_PORT: String(port), PKGPUB_QUICKSTART_DIR: path.join(tmp.dir, "work") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => out.includes("pkgpub serve:") && (clearInterval(timer), resolve()), 50);
        child.on("exit", (code) => (clearInterval(timer), reject(new Error(`quickstart exited ${code}: ${out}`))));
      });
      expect(out).toContain(`JULIA_PKG_SERVER=http://127.0.0.1:${port}`);
      const base = `http://127.0.0.1:${port}`;
      const registries = await (await fetch(`${base}/registries`)).text();
      const m = /^\/registry\/3f9ab0a2-54f8-4f6c-9a2d-8c3b3e1f5a01\/([0-9a-f]{40})\n$/.exec(registries);
      expect(m, registries).not.toBeNull();
      const reg = await fetch(`${base}${registries.trim()}`);
      expect(reg.status).toBe(200);
      expect(reg.headers.get("content-type")).toBe("application/x-gzip");
      expect(reg.headers.get("content-encoding")).toBeNull();
      // What Pkg does with it: the raw member paths are the lookup keys (Registry.toml at the
      // root, no "./"), and the unpacked tree hashes to the hash in the URL.
      const regBytes = Buffer.from(await reg.arrayBuffer());
      const members = execFileSync("tar", ["-tzf", "-"], { input: regBytes, encoding: "utf8" }).trim().split("\n");
      expect(members).toContain("Registry.toml");
      expect(members).toContain("H/HelloWorld/Versions.toml");
      expect(members.filter((m) => m.startsWith("./") || m.startsWith("/"))).toEqual([]);
      expect(treeOfTarball(regBytes, path.join(tmp.dir, "unpacked-registry"))).toBe(m![1]);
      for (const [, uuid, tree] of out.matchAll(/-> package\/([0-9a-f-]{36})\/([0-9a-f]{40})/g)) {
        const pkg = await fetch(`${base}/package/${uuid}/${tree}`);
        expect(pkg.status).toBe(200);
        expect(treeOfTarball(Buffer.from(await pkg.arrayBuffer()), path.join(tmp.dir, `unpacked-${tree}`))).toBe(tree);
      }
      expect([...out.matchAll(/-> package\//g)].length).toBe(2);
      // the Hex example: signed names/versions, the package resource and the tarball
      for (const p of ["names", "versions", "packages/greeter", "tarballs/greeter-0.1.0.tar", "public_key"]) {
        expect((await fetch(`${base}/repos/example/${p}`)).status, p).toBe(200);
      }
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});
