import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHexTarball } from "../../src/hex/tarball.js";
import { startServer } from "../../src/server/start-server.js";
import { FsStore } from "../../src/store/fs-store.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "../server/fake-upstream.js";
import { serveRepo, signedRepo, type SignedRepoFixture } from "../server/hex-fixture.js";

const exec = promisify(execFile);

async function etags(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list("")) if (!o.key.startsWith(".")) out.push(`${o.key} ${o.etag}`);
  return out.sort();
}
const keys = async (store: Store) => (await etags(store)).map((l) => l.split(" ")[0]!);

describe("pkgpub mirror hex, from a fake upstream signed with a test key", () => {
  const t = tempDir("pkgpub-mirror-hex-");
  let repo: SignedRepoFixture;
  let upstream: FakeUpstream;
  let keyFile: string;
  const sums = new Map<string, { inner: string; outer: string }>();

  /** A rebar.lock pinning these packages, with their real (or the given) checksums. */
  function rebarLock(names: string[], wrongOuter?: string): string {
    const file = path.join(t.dir, `rebar-${names.join("-")}${wrongOuter ? "-wrong" : ""}.lock`);
    const pkgs = repo.packages.filter((p) => names.includes(p.name));
    const deps = pkgs.map((p, i) => `{<<"${p.name}">>,{pkg,<<"${p.name}">>,<<"${p.version}">>},${i}}`).join(",\n ");
    const inner = pkgs.map((p) => `{<<"${p.name}">>, <<"${sums.get(p.name)!.inner.toUpperCase()}">>}`).join(",");
    const outer = pkgs.map((p) => `{<<"${p.name}">>, <<"${p.name === wrongOuter ? "0".repeat(64) : sums.get(p.name)!.outer.toUpperCase()}">>}`).join(",");
    writeFileSync(file, `{"1.2.0",\n[${deps}]}.\n[\n{pkg_hash,[${inner}]},\n{pkg_hash_ext,[${outer}]}\n].\n`);
    return file;
  }

  beforeAll(async () => {
    repo = signedRepo("hexpm");
    for (const p of repo.packages) {
      sums.set(p.name, { inner: Buffer.from(readHexTarball(p.tarball).innerChecksum).toString("hex"), outer: createHash("sha256").update(p.tarball).digest("hex") });
    }
    upstream = await FakeUpstream.start();
    serveRepo(upstream, repo);
    keyFile = path.join(t.dir, "hexpm.pem");
    writeFileSync(keyFile, repo.publicKeyPem);
  });
  afterAll(async () => {
    await upstream?.close();
    t.cleanup();
  });

  const mirror = (store: string, lock: string, extra: { upstream?: string; key?: string } = {}) =>
    runCli(["mirror", "hex", "--lock", lock, "--repo", "hexpm", "--upstream", extra.upstream ?? upstream.url, "--public-key", extra.key ?? keyFile, "--store", store]);

  it("a lock naming part of the repository brings exactly those objects, as signed", async () => {
    const dir = path.join(t.dir, "part");
    const r = await mirror(dir, rebarLock(["alpha"]));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await keys(new FsStore(dir))).toEqual(
      ["mirror/hex/hexpm.json", "repos/hexpm/names", "repos/hexpm/packages/alpha", "repos/hexpm/public_key", "repos/hexpm/tarballs/alpha-1.0.0.tar", "repos/hexpm/versions"].sort(),
    );
    for (const p of ["/names", "/versions", "/packages/alpha", "/tarballs/alpha-1.0.0.tar"]) {
      const stored = await new FsStore(dir).get(`repos/hexpm${p}`);
      const parts: Buffer[] = [];
      for await (const c of stored!.body) parts.push(c as Buffer);
      expect(Buffer.concat(parts).equals(repo.files.get(p)!), p).toBe(true);
    }
  });

  it("a mix.lock works the same, filtered by its repo field", async () => {
    const dir = path.join(t.dir, "mix");
    const s = sums.get("beta")!;
    const lock = path.join(t.dir, "mix.lock");
    writeFileSync(lock, `%{\n  "beta": {:hex, :beta, "0.1.0", "${s.inner}", [:rebar3], [], "hexpm", "${s.outer}"},\n  "other": {:hex, :other, "1.0.0", "${s.inner}", [:mix], [], "acme", "${s.outer}"},\n}\n`);
    const r = await runCli(["mirror", "hex", "--lock", lock, "--repo", "hexpm", "--upstream", upstream.url, "--public-key", keyFile, "--store", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("other 1.0.0 skipped: from repository acme");
    expect((await keys(new FsStore(dir))).filter((k) => k.includes("tarballs"))).toEqual(["repos/hexpm/tarballs/beta-0.1.0.tar"]);
  });

  it("refuses a tampered tarball, a wrong signature and a lock checksum that does not match, storing nothing", async () => {
    const tampered = await FakeUpstream.start();
    try {
      serveRepo(tampered, repo);
      const bad = Buffer.from(repo.packages[0]!.tarball);
      bad[bad.length - 600] = bad[bad.length - 600]! ^ 1;
      tampered.bytes("/tarballs/alpha-1.0.0.tar", bad);
      const a = path.join(t.dir, "tampered");
      const r1 = await mirror(a, rebarLock(["alpha"]), { upstream: tampered.url });
      expect(r1.code).toBe(1);
      expect(r1.stderr).toMatch(/failed: alpha 1\.0\.0: upstream tarball's SHA-256 [0-9a-f]{64} is not the outer checksum [0-9a-f]{64} in its signed packages\/alpha; refused, not stored/);
      expect(await keys(new FsStore(a))).toEqual([]);
    } finally {
      await tampered.close();
    }

    const otherKey = path.join(t.dir, "other.pem");
    writeFileSync(otherKey, signedRepo("hexpm").publicKeyPem);
    const b = path.join(t.dir, "wrong-key");
    const r2 = await mirror(b, rebarLock(["alpha"]), { key: otherKey });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("failed: alpha 1.0.0: upstream");
    expect(r2.stderr).toContain("packages/alpha: signature does not verify with the repository's public key");
    expect(await keys(new FsStore(b))).toEqual([]);

    const c = path.join(t.dir, "wrong-lock");
    const r3 = await mirror(c, rebarLock(["alpha"], "alpha"));
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain(`failed: alpha 1.0.0: the lock's outer checksum ${"0".repeat(64)} is not the signed ${sums.get("alpha")!.outer}; refused, not stored`);
    expect(await keys(new FsStore(c))).toEqual([]);
  });

  it("one bad package fails alone: the rest of the lock is mirrored and a re-run against a fixed upstream completes it", async () => {
    const tampered = await FakeUpstream.start();
    const dir = path.join(t.dir, "partial");
    const lock = rebarLock(["alpha", "beta"]);
    try {
      serveRepo(tampered, repo);
      const bad = Buffer.from(repo.packages.find((p) => p.name === "alpha")!.tarball);
      bad[bad.length - 600] = bad[bad.length - 600]! ^ 1;
      tampered.bytes("/tarballs/alpha-1.0.0.tar", bad);
      const r = await mirror(dir, lock, { upstream: tampered.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/failed: alpha 1\.0\.0: upstream tarball's SHA-256/);
      expect(r.stderr).not.toMatch(/failed: beta/);
      const held = await keys(new FsStore(dir));
      expect(held).toContain("repos/hexpm/tarballs/beta-0.1.0.tar");
      expect(held).toContain("repos/hexpm/packages/beta");
      expect(held.filter((k) => k.includes("alpha"))).toEqual([]);
    } finally {
      await tampered.close();
    }
    const fixed = await mirror(dir, lock);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(await keys(new FsStore(dir))).toContain("repos/hexpm/tarballs/alpha-1.0.0.tar");
  });

  it("mirrors the whole lock, re-runs write nothing, and real rebar3 installs from the store with the upstream stopped", async () => {
    const dir = path.join(t.dir, "full");
    const lock = rebarLock(["alpha", "beta"]);
    expect((await mirror(dir, lock)).code).toBe(0);
    const before = await etags(new FsStore(dir));
    const fetched = upstream.requests.length;
    const again = await mirror(dir, lock);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("0 objects written");
    expect(await etags(new FsStore(dir))).toEqual(before);
    expect(upstream.requests.length).toBe(fetched);

    await upstream.close();
    const server = await startServer({ store: dir, port: 0, log: new PassThrough() });
    try {
      const home = path.join(t.dir, "home");
      const app = path.join(t.dir, "app_mirror");
      mkdirSync(path.join(home, ".config/rebar3"), { recursive: true });
      mkdirSync(path.join(app, "src"), { recursive: true });
      writeFileSync(path.join(home, ".config/rebar3/rebar.config"), `{hex, [{repos, [#{name => <<"hexpm">>, repo_public_key => <<"${repo.publicKeyPem.trim()}">>}]}]}.\n`);
      writeFileSync(path.join(app, "rebar.config"), `{deps, [{beta, "0.1.0"}]}.\n`);
      writeFileSync(path.join(app, "src", "app_mirror.app.src"), `{application, app_mirror, [{vsn, "0.0.1"}, {applications, [kernel, stdlib, beta]}]}.\n`);
      const env = { PATH: process.env.PATH, HOME: home, HEX_CDN: `${server.url}/repos/hexpm`, REBAR_CACHE_DIR: path.join(home, "rebar-cache"), http_proxy: "", https_proxy: "" };
      try {
        await exec("rebar3", ["get-deps"], { cwd: app, env, timeout: 120_000 });
        await exec("rebar3", ["compile"], { cwd: app, env, timeout: 120_000 });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        throw new Error(`${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
      }
      expect(existsSync(path.join(app, "_build/default/lib/alpha/ebin/alpha.beam"))).toBe(true);
      expect(existsSync(path.join(app, "_build/default/lib/beta/ebin/beta.beam"))).toBe(true);
      const page = await (await fetch(`${server.url}/`)).text();
      expect(page).toContain("Mirrored from upstreams");
      expect(page).toMatch(new RegExp(`Hex repository hexpm <span class="muted">from ${upstream.url.replace(/[.]/g, "\\.")}</span>`));
      expect(page).toContain("<tr><td><code>alpha</code></td><td>1.0.0</td></tr>");
    } finally {
      await server.close();
    }
  }, 300_000);
});
