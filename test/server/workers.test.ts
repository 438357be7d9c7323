// `pkgpub serve --workers 2` as a process: every worker's requests show in /metrics, a SIGTERM
// lets every worker finish what it is sending, a killed worker is replaced, and the log stays
// one stream of whole JSON lines.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { createServer } from "node:net";
import path from "node:path";
import { FsStore } from "../../src/store/fs-store.js";
import { PKGPUB_BIN, spawnCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";

const ART = "a".repeat(40);

interface Serving {
  url: string;
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

async function serve(storeDir: string, extra: string[] = []): Promise<Serving> {
  const child = spawn(process.execPath, [PKGPUB_BIN, "serve", "--store", storeDir, "--port", "0", "--workers", "2", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  for (let i = 0; i < 800 && !/JULIA_PKG_SERVER=\S+\n/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
  const url = /on (http:\/\/\S+) \(2 workers\)/.exec(out)?.[1];
  expect(url, `${out}${err}`).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return { url: url!, child, out: () => out, err: () => err, exited };
}

function workerPids(out: string): number[] {
  return out
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"msg":"worker started"'))
    .map((l) => (JSON.parse(l) as { pid: number }).pid);
}

async function waitFor(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not met in 10 s");
}

describe("pkgpub serve --workers 2", () => {
  const t = tempDir("pkgpub-workers-");
  const big = randomBytes(24 * 1024 * 1024);
  const storeDir = path.join(t.dir, "store");

  beforeAll(async () => {
    const store = new FsStore(storeDir);
    await store.put("registries", "/registry/x/y\n");
    await store.put(`artifact/${ART}`, big);
  });
  afterAll(() => t.cleanup());

  it("sums every worker's requests in /metrics and writes one stream of whole JSON log lines", async () => {
    const s = await serve(storeDir);
    // A new connection each: the primary hands connections to the workers in turn.
    for (let i = 0; i < 20; i++) expect((await raw(s.url, "/registries")).status).toBe(200);
    const metrics = (await raw(s.url, "/metrics")).body.toString();
    expect(metrics).toContain('pkgpub_http_requests_total{route="registries",method="GET",status="200"} 20\n');
    expect(metrics).toMatch(/pkgpub_http_response_bytes_total\{route="registries"\} [1-9]/);
    expect(metrics).toContain("pkgpub_workers 2\n");
    // A later scrape sees the earlier ones, whichever worker answered them.
    expect((await raw(s.url, "/metrics")).body.toString()).toMatch(/pkgpub_http_requests_total\{route="metrics",method="GET",status="200"\} [1-9]/);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    const lines = s.out().split("\n").filter((l) => l.startsWith("{"));
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; path?: string });
    expect(parsed.filter((l) => l.msg === "request" && l.path === "/registries")).toHaveLength(20);
    expect(new Set(workerPids(s.out())).size).toBe(2);
  });

  it("on SIGTERM finishes the responses in flight in every worker, then exits 0", async () => {
    const s = await serve(storeDir);
    const u = new URL(s.url);
    const want = createHash("sha256").update(big).digest("hex");
    // Four slow readers (two per worker): each holds a response that cannot finish until it reads.
    const bodies: Promise<{ status: number; sha: string; n: number }>[] = [];
    const clients = Array.from({ length: 4 }, () => {
      let resume!: () => void;
      const started = new Promise<void>((resolveStarted) => {
        resume = () => undefined;
        const body = new Promise<{ status: number; sha: string; n: number }>((resolve, reject) => {
          const req = request({ host: u.hostname, port: u.port, path: `/artifact/${ART}`, agent: false }, (res) => {
            const h = createHash("sha256");
            let n = 0;
            res.once("data", (c: Buffer) => {
              h.update(c);
              n += c.length;
              res.pause();
              resume = () => {
                res.on("data", (d: Buffer) => {
                  h.update(d);
                  n += d.length;
                });
                res.resume();
              };
              resolveStarted();
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, sha: h.digest("hex"), n }));
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end();
        });
        bodies.push(body);
      });
      return { started, resume: () => resume() };
    });
    await Promise.all(clients.map((c) => c.started));
    s.child.kill("SIGTERM");
    // Let the stop reach every worker while the responses are still held up.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.child.exitCode).toBeNull();
    for (const c of clients) c.resume();
    for (const r of await Promise.all(bodies)) {
      expect(r.status).toBe(200);
      expect(r.n).toBe(big.length);
      expect(r.sha).toBe(want);
    }
    expect(await s.exited).toBe(0);
    const done = s.out().split("\n").filter((l) => l.includes(`"path":"/artifact/${ART}"`)).map((l) => JSON.parse(l) as { complete: boolean });
    expect(done).toHaveLength(4);
    expect(done.every((l) => l.complete)).toBe(true);
  });

  it("replaces a worker that is killed and keeps serving", async () => {
    const s = await serve(storeDir);
    await waitFor(() => workerPids(s.out()).length === 2);
    const [victim] = workerPids(s.out());
    process.kill(victim!, "SIGKILL");
    await waitFor(() => workerPids(s.out()).length === 3);
    const now = workerPids(s.out()).slice(1);
    expect(now).not.toContain(victim);
    expect(s.out()).toMatch(/"msg":"worker exited"/);
    await waitFor(async () => (await raw(s.url, "/metrics")).body.toString().includes("pkgpub_workers 2\n"));
    for (let i = 0; i < 6; i++) expect((await raw(s.url, "/registries")).status).toBe(200);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  });

  it("exits 1 with the reason when its workers cannot listen, and refuses a bad --workers", async () => {
    const taken = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    const port = (taken.address() as { port: number }).port;
    const r = await spawnCli(["serve", "--store", storeDir, "--port", String(port), "--workers", "2"], { env: { PATH: process.env.PATH } });
    taken.close();
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain(`port ${port} is already in use`);
    const bad = await spawnCli(["serve", "--store", storeDir, "--workers", "many"], { env: { PATH: process.env.PATH } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("workers (from --workers)");
  });
});
