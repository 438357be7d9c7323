import { describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
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
    expect(c.store).toBe(path.join(t.dir, "data"));
    expect(c.port).toBe(8000);
    expect(c.julia).toEqual({ upstream: "https://pkg.julialang.org", registriesTtl: 60 });
    expect(c.cache).toEqual({ dir: path.join(t.dir, "pkgpub-cache"), maxBytes: 2e9 });
    expect(c.hexMirrors).toEqual([
      { name: "hexpm", upstream: "https://repo.hex.pm", repository: "hexpm", publicKey: pem, allow: ["jason", "plug", "telemetry"], registryTtl: 300 },
    ]);
    expect(c.tokens).toEqual([{ name: "ci", token: "s3cret-token-of-ci-0001", scopes: ["julia", "/repos/acme"], publish: [], replace: [] }]);
    t.cleanup();
  });

  it("resolves relative paths in the file against the file's directory, and flag or env paths against the working directory", () => {
    const t = tempDir("pkgpub-config-");
    const conf = path.join(t.dir, "etc");
    const elsewhere = path.join(t.dir, "run");
    mkdirSync(path.join(conf, "keys"), { recursive: true });
    mkdirSync(elsewhere);
    writeFileSync(path.join(conf, "keys", "acme.pem"), generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString());
    writeFileSync(path.join(conf, "hexpm.pem"), pem);
    writeFileSync(
      path.join(conf, "pkgpub.toml"),
      'store = "data"\n[cache]\ndir = "cache"\n[[hex_publish]]\nrepo = "acme"\nprivate_key = "keys/acme.pem"\n[[hex_mirror]]\nname = "hexpm"\nupstream = "https://repo.hex.pm"\npublic_key_file = "hexpm.pem"\n',
    );
    const fromFile = loadConfig({ config: "../etc/pkgpub.toml" }, {}, elsewhere);
    expect(fromFile.store).toBe(path.join(conf, "data"));
    expect(fromFile.cache.dir).toBe(path.join(conf, "cache"));
    expect(fromFile.hexPublish.map((h) => h.repo)).toEqual(["acme"]);
    expect(fromFile.hexMirrors[0]!.publicKey).toBe(pem);

    const overridden = loadConfig({ config: "../etc/pkgpub.toml", store: "mine" }, { PKGPUB_CACHE_DIR: "c2" }, elsewhere);
    expect(overridden.store).toBe(path.join(elsewhere, "mine"));
    expect(overridden.cache.dir).toBe(path.join(elsewhere, "c2"));
    // Not given anywhere: the defaults are the working directory's.
    writeFileSync(path.join(conf, "bare.toml"), "port = 0\n");
    const bare = loadConfig({ config: "../etc/bare.toml" }, {}, elsewhere);
    expect(bare.store).toBe(path.join(elsewhere, "data"));
    expect(bare.cache.dir).toBe(path.join(elsewhere, "pkgpub-cache"));
    // A URL is left for the store opener, which refuses a mistyped one.
    expect(loadConfig({ store: "s3://b/p" }, {}, elsewhere).store).toBe("s3://b/p");
    expect(loadConfig({ store: "s3:/b" }, {}, elsewhere).store).toBe("s3:/b");
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

  it("reads [[hex_publish]] (key file or env:), token publish/replace, and their flag forms; refuses what cannot work", () => {
    const t = tempDir("pkgpub-config-");
    const priv = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    writeFileSync(path.join(t.dir, "acme.pem"), priv);
    writeFileSync(
      path.join(t.dir, "p.toml"),
      [
        '[[hex_publish]]\nrepo = "acme"\nprivate_key = "acme.pem"',
        '[[hex_publish]]\nrepo = "beta"\nprivate_key = "env:BETA_KEY"',
        '[[token]]\nname = "ci"\ntoken_env = "CI_TOKEN"\nscopes = ["/repos/acme"]\npublish = ["acme", "beta"]\nreplace = ["acme"]',
      ].join("\n"),
    );
    const env = { BETA_KEY: priv, CI_TOKEN: "ci-token-0123456789" };
    const c = loadConfig({ config: "p.toml" }, env, t.dir);
    expect(c.hexPublish.map((h) => h.repo)).toEqual(["acme", "beta"]);
    for (const h of c.hexPublish) expect(h.privateKey.asymmetricKeyType).toBe("rsa");
    expect(c.tokens).toEqual([{ name: "ci", token: "ci-token-0123456789", scopes: ["/repos/acme"], publish: ["acme", "beta"], replace: ["acme"] }]);

    // Flag and environment forms: --hex-publish repo=…,private_key=…; publish=/replace= in a token's scopes.
    const f = loadConfig({ "hex-publish": ["repo=acme,private_key=acme.pem"], token: ["dev:/repos/acme,publish=acme:dev-token-0123456789", "ops:replace=acme:env:CI_TOKEN"] }, env, t.dir);
    expect(f.hexPublish.map((h) => h.repo)).toEqual(["acme"]);
    expect(f.tokens).toEqual([
      { name: "dev", token: "dev-token-0123456789", scopes: ["/repos/acme"], publish: ["acme"], replace: [] },
      { name: "ops", token: "ci-token-0123456789", scopes: [], publish: ["acme"], replace: ["acme"] },
    ]);
    expect(loadConfig({}, { ...env, PKGPUB_HEX_PUBLISH: "repo=acme,private_key=acme.pem; repo=beta,private_key=env:BETA_KEY" }, t.dir).hexPublish.map((h) => h.repo)).toEqual(["acme", "beta"]);

    const attempt = (flags: Record<string, string | string[]>, e: NodeJS.ProcessEnv = env) => {
      try {
        loadConfig(flags, e, t.dir);
        return "";
      } catch (err) {
        return (err as Error).message;
      }
    };
    writeFileSync(path.join(t.dir, "r.toml"), '[[hex_publish]]\nrepo = "acme"\nprivate_key = "acme.pem"\n[[token]]\nname = "ci"\ntoken = "ci-token-0123456789"\npublish = ["acme"]\nreplace = ["beta"]\n');
    expect(attempt({ config: "r.toml" })).toMatch(/token.*every repository in replace must also be in publish/);
    expect(attempt({ "hex-publish": ["repo=acme,private_key=acme.pem"], token: ["ci:publish=beta:ci-token-0123456789"] })).toMatch(/token ci: publish names beta, which has no \[\[hex_publish\]\] entry/);
    expect(attempt({ "hex-publish": ["repo=acme,private_key=env:NOPE"] })).toMatch(/hex_publish\[0\]\.private_key: the environment variable NOPE is not set/);
    expect(attempt({ "hex-publish": ["repo=acme,private_key=missing.pem"] })).toMatch(/hex_publish\[0\]\.private_key: cannot read missing\.pem/);
    const inline = attempt({ "hex-publish": [`repo=acme,private_key=${priv.split("\n")[0]}`] });
    expect(inline).toMatch(/hex_publish\[0\]\.private_key: takes a PEM file path or env:VAR/);
    expect(attempt({ "hex-publish": ["repo=Acme!,private_key=acme.pem"] })).toMatch(/hex_publish\[0\]\.repo/);
    expect(attempt({ "hex-publish": ["repo=acme,private_key=acme.pem", "repo=acme,private_key=acme.pem"] })).toMatch(/hex_publish: the repository "acme" is listed twice/);
    // A key's text never shows in an error.
    writeFileSync(path.join(t.dir, "notakey.pem"), "not a key at all 0123456789");
    expect(attempt({ "hex-publish": ["repo=acme,private_key=notakey.pem"] })).not.toContain("0123456789");
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

  it("takes memory_cache as a size or 0 (256MB by default), and names it when wrong", () => {
    const t = tempDir("pkgpub-config-");
    expect(loadConfig({}, {}, t.dir).memoryCache).toBe(256e6);
    expect(loadConfig({ "memory-cache": "0" }, {}, t.dir).memoryCache).toBe(0);
    expect(loadConfig({}, { PKGPUB_MEMORY_CACHE: "1GiB" }, t.dir).memoryCache).toBe(1024 ** 3);
    writeFileSync(path.join(t.dir, "m.toml"), 'memory_cache = "64MB"\n');
    expect(loadConfig({ config: "m.toml" }, {}, t.dir).memoryCache).toBe(64e6);
    for (const bad of ["lots", "-1MB"]) expect(() => loadConfig({ "memory-cache": bad }, {}, t.dir)).toThrow(/memory_cache \(from --memory-cache\)/);
    t.cleanup();
  });
});
