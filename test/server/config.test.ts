import { describe, expect, it } from "vitest";
import { copyFileSync, writeFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/server/config.js";
import { tempDir } from "../support/git-repo.js";
import { runCli } from "../support/cli.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();

describe("serve configuration", () => {
  it("loads the shipped example (with its key file and token variable in place)", () => {
    const t = tempDir("pkgpub-config-");
    copyFileSync(path.join(root, "pkgpub.example.toml"), path.join(t.dir, "pkgpub.toml"));
    writeFileSync(path.join(t.dir, "hexpm.pem"), pem);
    const c = loadConfig({ config: "pkgpub.toml" }, { PKGPUB_TOKEN_CI: "s3cret-token-of-ci-0001" }, t.dir);
    expect(c.store).toBe("./data");
    expect(c.port).toBe(8000);
    expect(c.julia).toEqual({ upstream: "https://pkg.julialang.org", registriesTtl: 60 });
    expect(c.cache).toEqual({ dir: path.join(t.dir, "pkgpub-cache"), maxBytes: 2e9 });
    expect(c.hexMirrors).toEqual([
      { name: "hexpm", upstream: "https://repo.hex.pm", repository: "hexpm", publicKey: pem, allow: ["jason", "plug", "telemetry"], registryTtl: 300 },
    ]);
    expect(c.tokens).toEqual([{ name: "ci", token: "s3cret-token-of-ci-0001", scopes: ["julia", "/repos/acme"], publish: [], replace: [] }]);
    t.cleanup();
  });

  it("lets the environment override the file and flags override both", () => {
    const t = tempDir("pkgpub-config-");
    writeFileSync(path.join(t.dir, "k.pem"), pem);
    writeFileSync(path.join(t.dir, "c.toml"), 'port = 1111\nhost = "0.0.0.0"\n[cache]\nmax_size = "1GiB"\n');
    const env = { PKGPUB_PORT: "2222", PKGPUB_JULIA_UPSTREAM: "http://up.example:81/", PKGPUB_HEX_MIRRORS: "name=hexpm,upstream=http://hex.example,public_key_file=k.pem,allow=a+b", PKGPUB_TOKENS: "a:/repos/x,julia:tok-aaaaaaaaaaaaaaaa; b:/:env:B_TOKEN", B_TOKEN: "tok-bbbbbbbbbbbbbbbb" };
    const c = loadConfig({ config: "c.toml", port: "3333", "cache-dir": "/var/cache/pkgpub" }, env, t.dir);
    expect(c.port).toBe(3333);
    expect(c.host).toBe("0.0.0.0");
    expect(c.cache).toEqual({ dir: "/var/cache/pkgpub", maxBytes: 1024 ** 3 });
    expect(c.julia.upstream).toBe("http://up.example:81");
    expect(c.hexMirrors[0]).toMatchObject({ name: "hexpm", upstream: "http://hex.example", repository: "hexpm", allow: ["a", "b"], publicKey: pem });
    expect(c.tokens).toEqual([
      { name: "a", token: "tok-aaaaaaaaaaaaaaaa", scopes: ["/repos/x", "julia"], publish: [], replace: [] },
      { name: "b", token: "tok-bbbbbbbbbbbbbbbb", scopes: ["/"], publish: [], replace: [] },
    ]);
    expect(loadConfig({ config: "c.toml" }, env, t.dir).port).toBe(2222);
    t.cleanup();
  });

  it("refuses bad values with errors that name the key and where it came from, never echoing a secret", () => {
    const t = tempDir("pkgpub-config-");
    const attempt = (flags: Record<string, string | string[]>, env: NodeJS.ProcessEnv = {}) => {
      try {
        loadConfig(flags, env, t.dir);
        return "";
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(attempt({}, { PKGPUB_PORT: "eighty" })).toMatch(/port \(from PKGPUB_PORT\)/);
    expect(attempt({ port: "70000" })).toMatch(/port \(from --port\)/);
    expect(attempt({ "julia-upstream": "ftp://x" })).toMatch(/julia\.upstream \(from --julia-upstream\): must be an http/);
    expect(attempt({ "julia-upstream": "https://user:pw@x" })).toMatch(/julia\.upstream.*credentials/);
    expect(attempt({ "cache-max-size": "lots" })).toMatch(/cache\.max_size .*500MB/);
    expect(attempt({ "hex-mirror": ["name=Hex!,upstream=https://x"] })).toMatch(/hex_mirror\[0\]\.name/);
    expect(attempt({ "hex-mirror": ["name=hexpm,upstream=https://x"] })).toMatch(/hex_mirror\[0\].*public_key/);
    expect(attempt({ "hex-mirror": ["name=hexpm,upstream=https://x,public_key_file=missing.pem"] })).toMatch(/hex_mirror\[0\]\.public_key_file: cannot read missing\.pem/);
    const short = attempt({ token: ["a:/:tooshort"] });
    expect(short).toMatch(/token\[0\]\.token .*16/);
    expect(short).not.toContain("tooshort");
    expect(attempt({ token: ["a:/:env:NOPE"] })).toMatch(/token\[0\] \(a\): environment variable NOPE is not set/);
    expect(attempt({ token: ["justasecretvalue"] })).not.toContain("justasecretvalue");
    writeFileSync(path.join(t.dir, "bad.toml"), 'port = 8000\n[julia]\nupstream = "https://x"\nregistry_ttl = 5\n');
    expect(attempt({ config: "bad.toml" })).toMatch(/julia.*unknown key.*registry_ttl/);
    writeFileSync(path.join(t.dir, "broken.toml"), 'port = 8000\nhost = \n');
    expect(attempt({ config: "broken.toml" })).toMatch(/broken\.toml, line 2/);
    expect(attempt({ config: "absent.toml" })).toMatch(/absent\.toml: not found/);
    t.cleanup();
  });

  it("makes `pkgpub serve` exit 2 with the key named", async () => {
    const res = await runCli(["serve", "--port", "x"], { PATH: process.env.PATH });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("port (from --port)");
  });

  it("takes workers as a number or auto (one per core), 1 by default, and names it when wrong", () => {
    const t = tempDir("pkgpub-config-");
    expect(loadConfig({}, {}, t.dir).workers).toBe(1);
    expect(loadConfig({ workers: "3" }, {}, t.dir).workers).toBe(3);
    expect(loadConfig({}, { PKGPUB_WORKERS: "auto" }, t.dir).workers).toBe(availableParallelism());
    writeFileSync(path.join(t.dir, "w.toml"), "workers = 2\n");
    expect(loadConfig({ config: "w.toml" }, {}, t.dir).workers).toBe(2);
    for (const bad of ["0", "many", "1.5"]) expect(() => loadConfig({ workers: bad }, {}, t.dir)).toThrow(/workers \(from --workers\)/);
    t.cleanup();
  });
});
