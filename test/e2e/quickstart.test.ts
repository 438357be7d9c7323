import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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
      // The printed Julia lines: forms Pkg resolves through a server (a bare registry name is
      // only ever General), with the UUID the store actually lists.
      expect(out).toContain("pkg> registry add           (Julia 1.5+");
      expect(out).toContain(`pkg> registry add 3f9ab0a2-54f8-4f6c-9a2d-8c3b3e1f5a01    (Julia 1.4+`);
      expect(out).not.toContain("registry add ExampleRegistry");
      // The printed rebar3 entry is read back by Erlang as rebar3 reads its config, and names the
      // key that the server serves; the mix line names the version that was published.
      const entry = /^\{hex, \[\{repos[\s\S]*?\}\]\}\]\}\.$/m.exec(out)?.[0];
      expect(entry, out).toBeDefined();
      const config = path.join(tmp.dir, "rebar.config");
      writeFileSync(config, `${entry}\n`);
      const consulted = execFileSync(
        "erl",
        ["-noshell", "-eval", `{ok, [{hex, [{repos, [R]}]}]} = file:consult("${config}"), io:format("~s~n~s~n~s", [maps:get(name, R), maps:get(repo_url, R), maps:get(repo_public_key, R)]), halt().`],
        { encoding: "utf8" },
      );
      const servedKey = await (await fetch(`${base}/repos/example/public_key`)).text();
      expect(consulted).toBe(`example\n${base}/repos/example\n${servedKey.trim()}`);
      expect(consulted).toContain("-----BEGIN PUBLIC KEY-----");
      const keyFile = /public key in (\S+)/.exec(out)?.[1];
      expect(readFileSync(keyFile!, "utf8").trim()).toBe(servedKey.trim());
      expect(out).toContain(`mix hex.repo add example ${base}/repos/example --public-key ${keyFile}`);
      expect(out).toContain(`{:greeter, "~> 0.1.0", repo: "example"}`);
      expect((await fetch(`${base}/repos/example/tarballs/greeter-0.1.0.tar`)).status).toBe(200);
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
