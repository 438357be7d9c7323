import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { FsStore } from "../../src/store/fs-store.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "./fake-upstream.js";
import { serveRepo, signedRepo, type SignedRepoFixture } from "./hex-fixture.js";

const exec = promisify(execFile);

/** rebar3, with its output in the error when it fails. */
async function run(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeout: number }): Promise<void> {
  try {
    await exec(cmd, args, options);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

/**
 * The real rebar3 resolving and compiling through the mirror with HEX_CDN, verifying with the
 * fake upstream's key configured for the hexpm repository (as hex.pm's key is built in).
 */
describe("rebar3 through the Hex mirror (HEX_CDN)", () => {
  const t = tempDir("pkgpub-rebar3-mirror-");
  let upstream: FakeUpstream;
  let repo: SignedRepoFixture;
  let server: TestServer;

  beforeAll(async () => {
    repo = signedRepo("hexpm");
    upstream = await FakeUpstream.start();
    serveRepo(upstream, repo);
    server = await startTestServer({
      store: new FsStore(path.join(t.dir, "store")),
      port: 0,
      log: new PassThrough(),
      cache: { dir: path.join(t.dir, "cache") },
      hexMirrors: [{ name: "hexpm", upstream: upstream.url, repository: "hexpm", publicKey: repo.publicKeyPem, registryTtl: 300 }],
    });
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
    t.cleanup();
  });

  function project(name: string, publicKeyPem: string): { dir: string; env: NodeJS.ProcessEnv } {
    const home = path.join(t.dir, `home-${name}`);
    const dir = path.join(t.dir, name);
    mkdirSync(path.join(home, ".config/rebar3"), { recursive: true });
    mkdirSync(path.join(dir, "src"), { recursive: true });
    writeFileSync(
      path.join(home, ".config/rebar3/rebar.config"),
      `{hex, [{repos, [#{name => <<"hexpm">>, repo_public_key => <<"${publicKeyPem.trim()}">>}]}]}.\n`,
    );
    writeFileSync(path.join(dir, "rebar.config"), `{deps, [{beta, "0.1.0"}]}.\n`);
    writeFileSync(path.join(dir, "src", `${name}.app.src`), `{application, ${name}, [{vsn, "0.0.1"}, {applications, [kernel, stdlib, beta]}]}.\n`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      HEX_CDN: `${server.url}/repos/hexpm`,
      REBAR_CACHE_DIR: path.join(home, "rebar-cache"),
      DEBUG: "1",
      // No proxy may reach the outside; the mirror is the only source.
      http_proxy: "",
      https_proxy: "",
    };
    return { dir, env };
  }

  it("resolves, downloads and compiles dependencies from the mirror", async () => {
    const { dir, env } = project("app_ok", repo.publicKeyPem);
    await run("rebar3", ["get-deps"], { cwd: dir, env, timeout: 120_000 });
    await run("rebar3", ["compile"], { cwd: dir, env, timeout: 120_000 });
    expect(existsSync(path.join(dir, "_build/default/lib/alpha/ebin/alpha.beam"))).toBe(true);
    expect(existsSync(path.join(dir, "_build/default/lib/beta/ebin/beta.beam"))).toBe(true);
    const lock = readFileSync(path.join(dir, "rebar.lock"), "utf8");
    expect(lock).toContain("alpha");
    expect(upstream.count("/tarballs/beta-0.1.0.tar")).toBe(1);
  });

  it("is refused by rebar3 when the configured key is not the upstream's", async () => {
    const other = signedRepo("hexpm");
    const { dir, env } = project("app_bad", other.publicKeyPem);
    const failed = await run("rebar3", ["get-deps"], { cwd: dir, env, timeout: 120_000 }).then(
      () => false,
      () => true,
    );
    expect(failed).toBe(true);
    expect(existsSync(path.join(dir, "_build/default/lib/beta"))).toBe(false);
  });
});
