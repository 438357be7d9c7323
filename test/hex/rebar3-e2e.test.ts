import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { decodeSigned, encodeSigned } from "../../src/hex/messages.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { makeRebarProject, newKeyPem, readObject, startServe } from "./support/fixtures.js";

const s3Env = inject("s3Env");

/**
 * Real rebar3 (Debian's 3.19, hex_core 0.7.1) against `pkgpub serve`: two packages published
 * from git tags, one depending on the other, fetched, verified and compiled by a project that
 * depends on the second. Each rebar3 run gets its own HOME and cache, and its project config
 * replaces the repo list, so nothing reaches hex.pm.
 */
describe.each<StoreKind>(["directory", "s3"])("rebar3 end to end (%s store)", (kind) => {
  const tmp = tempDir("hex-rebar3-");
  const key = newKeyPem();
  const wrongKey = newKeyPem();
  let store: Store;
  let spec: string;
  let env: NodeJS.ProcessEnv;
  let server: { url: string; stop: () => Promise<void> };
  let run = 0;

  beforeAll(async () => {
    ({ store, spec, env } = await openTestStores(kind, tmp.dir, s3Env));
    env = { ...process.env, ...env };
    const keyFile = path.join(tmp.dir, "key.pem");
    writeFileSync(keyFile, key.privatePem);
    const foo = makeRebarProject(path.join(tmp.dir, "foo"), { app: "foo", vsn: "git", tag: "v0.1.0" });
    const bar = makeRebarProject(path.join(tmp.dir, "bar"), {
      app: "bar",
      vsn: '"0.2.0"',
      tag: "v0.2.0",
      deps: [["foo", "~> 0.1"]],
      locked: { foo: "0.1.0" },
      erl: "-module(bar).\n-export([hello/0]).\nhello() -> {bar, foo:hello()}.\n",
    });
    for (const source of [foo, bar]) {
      const r = await runCli(["hex", "publish", "--repo", "acme", "--store", spec, "--private-key", keyFile, "--source", source], env);
      expect(r.code, r.stderr).toBe(0);
    }
    server = await startServe(spec, env);
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  /** A fresh project depending on bar, with the repo configured with `publicKeyPem`; runs rebar3. */
  function rebar3(publicKeyPem: string, ...commands: string[][]): { ok: boolean; output: string; dir: string } {
    const dir = path.join(tmp.dir, `app${++run}`);
    const home = path.join(dir, "home");
    mkdirSync(path.join(dir, "src"), { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(
      path.join(dir, "rebar.config"),
      `{erl_opts, [debug_info]}.\n{deps, [{bar, "~> 0.2"}]}.\n{hex, [{repos, replace, [#{name => <<"acme">>, repo_url => <<"${server.url}/repos/acme">>, repo_public_key => <<"${publicKeyPem.trim()}">>, repo_verify => true}]}]}.\n`,
    );
    writeFileSync(path.join(dir, "src/app.app.src"), `{application, app, [{description, "app"}, {vsn, "0.0.1"}, {applications, [kernel, stdlib, bar]}]}.\n`);
    writeFileSync(path.join(dir, "src/app.erl"), "-module(app).\n-export([go/0]).\ngo() -> bar:hello().\n");
    let output = "";
    for (const args of commands) {
      const r = spawnSync("rebar3", args, {
        cwd: dir,
        encoding: "utf8",
        timeout: 120_000,
        env: { PATH: process.env.PATH, HOME: home, REBAR_CACHE_DIR: path.join(home, "cache"), REBAR_COLOR: "none", HEX_CDN: "http://127.0.0.1:9/nowhere", TERM: "dumb" },
      });
      output += `${r.stdout}${r.stderr}`;
      if (r.status !== 0) return { ok: false, output, dir };
    }
    return { ok: true, output, dir };
  }

  it("rebar3 get-deps and compile with the SPKI public key; the code runs", () => {
    const r = rebar3(key.spkiPem, ["get-deps"], ["compile"]);
    expect(r.output).toContain("Fetching bar v0.2.0");
    expect(r.output).toContain("Fetching foo v0.1.0");
    expect(r.ok, r.output).toBe(true);
    const out = execFileSync("erl", ["-noshell", "-pa", ...["app", "bar", "foo"].map((a) => path.join(r.dir, "_build/default/lib", a, "ebin")), "-eval", "io:format(\"~p~n\", [app:go()]), halt()."], { encoding: "utf8" });
    expect(out.trim()).toBe("{bar,foo_hello}");
  });

  it("works with the PKCS#1 (RSA PUBLIC KEY) form too", () => {
    const r = rebar3(key.pkcs1Pem, ["get-deps"]);
    expect(r.ok, r.output).toBe(true);
    expect(existsSync(path.join(r.dir, "_build/default/lib/foo/src/foo.erl"))).toBe(true);
  });

  it("refuses the repository when the configured key is another one", () => {
    const r = rebar3(wrongKey.spkiPem, ["get-deps"]);
    expect(r.ok).toBe(false);
    // rebar3 3.19 words a failed signature check as a "deprecated record format".
    expect(r.output).toContain("Package not found in any repo: bar");
    expect(existsSync(path.join(r.dir, "_build/default/lib/bar"))).toBe(false);
  });

  it("refuses a package whose signature is wrong", async () => {
    const original = await readObject(store, "repos/acme/packages/bar");
    const signed = decodeSigned(gunzipSync(original));
    const sig = Buffer.from(signed.signature!);
    sig[10]! ^= 0x01;
    await store.put("repos/acme/packages/bar", gzipSync(encodeSigned({ payload: signed.payload, signature: sig })));
    try {
      const r = rebar3(key.spkiPem, ["get-deps"]);
      expect(r.ok).toBe(false);
      expect(r.output).toContain("Package not found in any repo: bar");
      expect(existsSync(path.join(r.dir, "_build/default/lib/bar"))).toBe(false);
    } finally {
      await store.put("repos/acme/packages/bar", original);
    }
    expect(rebar3(key.spkiPem, ["get-deps"]).ok).toBe(true);
  });

  it("refuses a tarball with a changed byte", async () => {
    const original = await readObject(store, "repos/acme/tarballs/foo-0.1.0.tar");
    const tampered = Buffer.from(original);
    // A byte inside contents.tar.gz: the tar structure stays valid, only the bytes differ.
    tampered[tampered.indexOf("contents.tar.gz") + 512 + 40]! ^= 0x20;
    await store.put("repos/acme/tarballs/foo-0.1.0.tar", tampered);
    try {
      const r = rebar3(key.spkiPem, ["get-deps"]);
      expect(r.ok).toBe(false);
      expect(r.output).toContain("inner_checksum_mismatch");
      expect(existsSync(path.join(r.dir, "_build/default/lib/foo/src/foo.erl"))).toBe(false);
    } finally {
      await store.put("repos/acme/tarballs/foo-0.1.0.tar", original);
    }
  });

  it("is served with strong ETags, no Content-Encoding, and an empty If-None-Match is not a 304", async () => {
    for (const p of ["names", "versions", "packages/bar", "tarballs/foo-0.1.0.tar", "public_key"]) {
      const res = await fetch(`${server.url}/repos/acme/${p}`, { headers: { "If-None-Match": "" } });
      expect(res.status, p).toBe(200);
      const etag = res.headers.get("etag");
      expect(etag, p).toMatch(/^"[^"]+"$/);
      expect(res.headers.get("content-encoding"), p).toBeNull();
      const again = await fetch(`${server.url}/repos/acme/${p}`, { headers: { "If-None-Match": etag! } });
      expect(again.status, p).toBe(304);
    }
    expect((await fetch(`${server.url}/repos/acme/packages/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/repos/acme/packages/Bad..Name`)).status).toBe(400);
  });
});
