import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import path from "node:path";
import { FsStore } from "../../src/store/fs-store.js";
import { tempDir } from "../support/git-repo.js";
import { PKGPUB_BIN } from "../support/cli.js";
import { TEST_WORKERS } from "../support/serve.js";
import { FakeUpstream } from "./fake-upstream.js";
import { raw } from "./http-client.js";
import { treeTarball } from "./tarballs.js";

const PKG = "7876af07-990d-54b4-ab0e-23690620f79a";

describe("pkgpub serve as a process", () => {
  const t = tempDir("pkgpub-serve-cli-");
  let upstream: FakeUpstream;
  let pkg: { hash: string; gz: Buffer };

  beforeAll(async () => {
    const store = new FsStore(path.join(t.dir, "store"));
    await store.put("registries", "");
    pkg = treeTarball(path.join(t.dir, "pkg"), { "big.bin": Buffer.alloc(3_000_000, 1), "src/X.jl": "module X end\n" });
    upstream = await FakeUpstream.start();
  });
  afterAll(async () => {
    await upstream.close();
    t.cleanup();
  });

  it("prints its URL, logs JSON per request, and on SIGTERM finishes the request in flight before exiting 0", async () => {
    const p = `/package/${PKG}/${pkg.hash}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const upstreamStarted = new Promise<void>((r) => (started = r));
    upstream.routes.set(p, async (_req, res) => {
      res.writeHead(200, { "Content-Length": String(pkg.gz.length) });
      res.write(pkg.gz.subarray(0, 1000));
      started();
      await gate;
      res.end(pkg.gz.subarray(1000));
    });
    const child = spawn(
      process.execPath,
      [PKGPUB_BIN, "serve", "--store", path.join(t.dir, "store"), "--port", "0", "--julia-upstream", upstream.url, "--cache-dir", path.join(t.dir, "cache"), "--workers", String(TEST_WORKERS)],
      { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    for (let i = 0; i < 400 && !/JULIA_PKG_SERVER=\S+\n/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
    const url = /on (http:\/\/\S+)/.exec(out)?.[1];
    expect(url, err).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(`JULIA_PKG_SERVER=${url}`);
    expect((await raw(url!, "/health")).status).toBe(200);

    const inFlight = raw(url!, p);
    await upstreamStarted;
    child.kill("SIGTERM");
    // Let the signal land before the upstream finishes.
    await new Promise((r) => setTimeout(r, 200));
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.equals(pkg.gz)).toBe(true);
    expect(await exited).toBe(0);
    const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(lines.find((l) => l.path === p)).toMatchObject({ method: "GET", status: 200, route: "package", source: "miss", complete: true });
    expect(lines.find((l) => l.path === "/health")).toMatchObject({ status: 200 });
  });
});
