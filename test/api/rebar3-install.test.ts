import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { tempDir } from "../support/git-repo.js";
import { openTestStores } from "../support/stores.js";
import { newKeyPem } from "../hex/support/fixtures.js";
import { simpleTarball } from "../hex/support/tarballs.js";
import { hexRequest, READER, startApiServe, type ServeHandle } from "./support.js";

const s3Env = inject("s3Env");

/**
 * What a team gets from publishing through the API: two packages (one depending on the other)
 * posted to `pkgpub serve` as `rebar3 hex publish` / `mix hex.publish` post them, then fetched,
 * verified against the repository's public key, compiled and run by real rebar3 (Debian's
 * 3.19) from the same server, with the read token as its repo_key. HOME, cache and repo list
 * are the test's own, so nothing reaches hex.pm.
 */
describe("a release published through the API, installed by real rebar3", () => {
  const tmp = tempDir("api-rebar3-");
  const key = newKeyPem();
  let server: ServeHandle;

  beforeAll(async () => {
    const opened = await openTestStores("directory", tmp.dir, s3Env);
    server = await startApiServe(tmp.dir, opened.spec, opened.env, key.privatePem);
    const api = `${server.url}/api/repos/acme`;
    const releases: Array<[string, Uint8Array]> = [
      ["foo", simpleTarball("foo", "0.1.0")],
      ["bar", simpleTarball("bar", "0.2.0", [{ name: "foo", app: "foo", requirement: "~> 0.1", optional: false }])],
    ];
    for (const [name, body] of releases) {
      // As rebar3_hex posts it: Expect: 100-continue without connection: close (spec §12).
      const res = await hexRequest(`${api}/packages/${name}/releases?replace=false`, { method: "POST", body, expectContinue: true, connection: "keep-alive" });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it("rebar3 get-deps and compile fetch bar and its dependency foo; the code runs", () => {
    const dir = path.join(tmp.dir, "app");
    const home = path.join(dir, "home");
    mkdirSync(path.join(dir, "src"), { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(
      path.join(dir, "rebar.config"),
      `{erl_opts, [debug_info]}.\n{deps, [{bar, "~> 0.2"}]}.\n{hex, [{repos, replace, [#{name => <<"acme">>, repo_url => <<"${server.url}/repos/acme">>, repo_key => <<"${READER}">>, repo_public_key => <<"${key.spkiPem.trim()}">>, repo_verify => true}]}]}.\n`,
    );
    writeFileSync(path.join(dir, "src/app.app.src"), `{application, app, [{description, "app"}, {vsn, "0.0.1"}, {applications, [kernel, stdlib, bar]}]}.\n`);
    writeFileSync(path.join(dir, "src/app.erl"), "-module(app).\n-export([go/0]).\ngo() -> {bar:v(), foo:v()}.\n");
    let output = "";
    for (const args of [["get-deps"], ["compile"]]) {
      const r = spawnSync("rebar3", args, {
        cwd: dir,
        encoding: "utf8",
        timeout: 120_000,
        env: { PATH: process.env.PATH, HOME: home, REBAR_CACHE_DIR: path.join(home, "cache"), REBAR_COLOR: "none", HEX_CDN: "http://127.0.0.1:9/nowhere", TERM: "dumb" },
      });
      output += `${r.stdout}${r.stderr}`;
      expect(r.status, output).toBe(0);
    }
    expect(output).toContain("Fetching bar v0.2.0");
    expect(output).toContain("Fetching foo v0.1.0");
    const out = execFileSync("erl", ["-noshell", "-pa", ...["app", "bar", "foo"].map((a) => path.join(dir, "_build/default/lib", a, "ebin")), "-eval", 'io:format("~p~n", [app:go()]), halt().'], { encoding: "utf8" });
    expect(out.trim()).toBe('{"0.2.0","0.1.0"}');
  }, 240_000);
});
