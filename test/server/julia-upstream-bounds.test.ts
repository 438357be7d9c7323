// Hostile upstream answers to Julia misses: a never-ending body, a body too large for the cache,
// a shared download whose first client hangs up while backpressured, a non-gzip body that
// keeps dripping; and what a streamed (unverified) miss may tell caches in front of the proxy.
import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import path from "node:path";
import { PassThrough } from "node:stream";
import { createGzip } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { itInOneProcess, startTestServer, type TestServer, type TestServerOptions } from "../support/serve.js";
import { FsStore } from "../../src/store/fs-store.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "./fake-upstream.js";
import { raw } from "./http-client.js";
import { treeTarball } from "./tarballs.js";

const PKG = "7876af07-990d-54b4-ab0e-23690620f79a";
const MB = 1024 * 1024;

describe("Julia misses from a hostile upstream", () => {
  const t = tempDir("pkgpub-julia-bounds-");
  let upstream: FakeUpstream;
  let big: { hash: string; gz: Buffer };
  let small: { hash: string; gz: Buffer };
  let store: FsStore;
  const servers: TestServer[] = [];
  let n = 0;

  async function serve(extra: Partial<TestServerOptions> = {}, maxBytes?: number): Promise<{ s: TestServer; cacheDir: string }> {
    const cacheDir = path.join(t.dir, `cache-${n++}`);
    const s = await startTestServer({
      store,
      port: 0,
      log: new PassThrough(),
      julia: { upstream: upstream.url, registriesTtl: 60 },
      cache: { dir: cacheDir, maxBytes },
      upstream: { timeout: 5, failureThreshold: 100, cooldown: 1 },
      ...extra,
    });
    servers.push(s);
    return { s, cacheDir };
  }

  beforeAll(async () => {
    // Random content: gzip cannot shrink it, so the wire carries ~24 MB.
    big = treeTarball(path.join(t.dir, "big"), { "data.bin": randomBytes(24 * MB) });
    small = treeTarball(path.join(t.dir, "small"), { "Project.toml": 'name = "Small"\n' });
    store = new FsStore(path.join(t.dir, "store"));
    upstream = await FakeUpstream.start();
  });
  afterEach(async () => {
    while (servers.length) await servers.pop()!.close();
    upstream.routes.clear();
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await upstream.close();
    t.cleanup();
  });

  /** A route sending a valid gzip stream of random bytes that never ends; counts what it sent. */
  function endless(p: string): { sent: () => number; closed: Promise<void> } {
    let sent = 0;
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    upstream.routes.set(p, (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" }); // chunked, no length
      const gz = createGzip({ level: 1 });
      gz.on("data", (c: Buffer) => {
        sent += c.length;
        if (!res.write(c)) {
          gz.pause();
          res.once("drain", () => gz.resume());
        }
      });
      let open = true;
      res.on("close", () => {
        open = false;
        gz.destroy();
        closedResolve();
      });
      const pump = () => {
        while (open && gz.write(randomBytes(64 * 1024)));
        if (open) gz.once("drain", pump);
      };
      pump();
    });
    return { sent: () => sent, closed };
  }

  function tmpFiles(cacheDir: string): number[] {
    // Each process downloads into its own .pkgpub-tmp/<pid>/ folder: the sizes of the files in them.
    const dir = path.join(cacheDir, ".pkgpub-tmp");
    const sizes: number[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, f.name);
        if (f.isDirectory()) walk(full);
        else try { sizes.push(statSync(full).size); } catch { /* renamed into place meanwhile */ }
      }
    };
    try { walk(dir); } catch { /* no temp folder yet */ }
    return sizes;
  }

  it("a streamed miss is no-store; the verified cache hit afterwards is immutable", async () => {
    const p = `/package/${PKG}/${small.hash}`;
    upstream.bytes(p, small.gz);
    const { s } = await serve();
    const miss = await raw(s.url, p);
    expect(miss.status).toBe(200);
    expect(miss.headers["x-cache"]).toBe("miss");
    expect(miss.headers["cache-control"]).toBe("no-store");
    await waitFor(async () => (await raw(s.url, p, { method: "HEAD" })).headers["x-cache"] === "hit");
    const hit = await raw(s.url, p);
    expect(hit.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(hit.body.equals(small.gz)).toBe(true);
    // A wrong tree under the URL: served streamed, no-store, never marked cacheable.
    const q = `/package/${PKG}/${"e".repeat(40)}`;
    upstream.bytes(q, small.gz);
    const wrong = await raw(s.url, q);
    expect(wrong.headers["cache-control"]).toBe("no-store");
  });

  it("stops a never-ending download when its client leaves and it cannot be cached", async () => {
    const p = `/artifact/${"a".repeat(40)}`;
    const body = endless(p);
    const { s, cacheDir } = await serve({}, MB);
    const got = await readSome(s.url, p, 256 * 1024);
    expect(got.status).toBe(200);
    expect(got.headers["cache-control"]).toBe("no-store");
    const atLeave = body.sent();
    got.leave();
    await body.closed; // before the fix: never (the download went on into the cache's temp folder)
    const after = body.sent() - atLeave;
    console.log(`[figures] endless miss, cache 1 MiB: ${atLeave} bytes sent before the client left, ${after} after`);
    expect(atLeave + after).toBeLessThan(1 * MB + 16 * MB); // the cache size plus socket buffers
    await waitFor(() => tmpFiles(cacheDir).length === 0);
    expect((await raw(s.url, "/registries")).status).toBe(200);
  });

  it("a body without Content-Length larger than the cache is still streamed, but never written past the cache size", async () => {
    const p = `/artifact/${"b".repeat(40)}`;
    const body = endless(p);
    const { s, cacheDir } = await serve({}, MB);
    let largest = 0;
    const got = await readSome(s.url, p, 6 * MB, () => {
      for (const size of tmpFiles(cacheDir)) largest = Math.max(largest, size);
    });
    expect(got.received).toBeGreaterThanOrEqual(6 * MB);
    expect(largest).toBeLessThanOrEqual(MB + 256 * 1024);
    expect(tmpFiles(cacheDir)).toEqual([]);
    got.leave();
    await body.closed;
  });

  // One download shared by the clients of one process: each worker fetches its own misses.
  itInOneProcess("a shared download resumes for the second client when the first hangs up while backpressured", async () => {
    const p = `/package/${PKG}/${big.hash}`;
    upstream.bytes(p, big.gz);
    const { s, cacheDir } = await serve();
    // Client 1 reads nothing: the download waits for it once the socket buffers are full.
    const first = await openPaused(s.url, p);
    await waitFor(() => tmpFiles(cacheDir).some((size) => size > 0));
    const started = Date.now();
    const second = readAll(s.url, p);
    const firstByte = await second.firstByte;
    const ttfb = Date.now() - started;
    // Until the download is held up by client 1: the temp file stops growing short of the end.
    let last = -1;
    await waitFor(async () => {
      const now = Math.max(0, ...tmpFiles(cacheDir));
      const still = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 100));
      return still;
    });
    expect(last).toBeLessThan(big.gz.length);
    first.destroy();
    const left = Date.now();
    const res = await second.done; // before the fix: cut after the upstream's 5 s idle timeout
    console.log(`[figures] shared miss: second client's first byte after ${ttfb} ms, whole ${big.gz.length} bytes ${Date.now() - left} ms after the first client left`);
    expect(firstByte).toBe(true);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(big.gz.length);
    expect(res.body.equals(big.gz)).toBe(true);
    await waitFor(async () => (await raw(s.url, p, { method: "HEAD" })).headers["x-cache"] === "hit");
  });

  it("a non-gzip body that keeps dripping fails at once with 502, not after the upstream timeout", async () => {
    const p = `/package/${PKG}/${"c".repeat(40)}`;
    let drip: NodeJS.Timeout | undefined;
    upstream.routes.set(p, (_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.write("<html>");
      drip = setInterval(() => res.write("."), 1000);
      res.on("close", () => clearInterval(drip));
    });
    const { s } = await serve();
    const started = Date.now();
    const res = await raw(s.url, p);
    console.log(`[figures] non-gzip dripping body: 502 after ${Date.now() - started} ms (upstream timeout 5 s)`);
    clearInterval(drip);
    expect(res.status).toBe(502);
    expect(res.body.toString()).toMatch(/not gzip/);
  });
});

/** Reads until `limit` body bytes arrived (calling check on the way), then leaves it to the caller. */
function readSome(base: string, p: string, limit: number, check?: () => void): Promise<{ status: number; headers: IncomingMessage["headers"]; received: number; leave: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, base), { agent: false }, (res) => {
      let received = 0;
      const onData = (c: Buffer) => {
        received += c.length;
        check?.();
        if (received >= limit) {
          res.off("data", onData);
          res.pause();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, received, leave: () => req.destroy() });
        }
      };
      res.on("data", onData);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, received, leave: () => req.destroy() }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A GET whose response is never read. */
function openPaused(base: string, p: string): Promise<{ destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(p, base), { agent: false }, (res) => {
      res.pause();
      resolve({ destroy: () => req.destroy() });
    });
    req.on("error", () => undefined);
    req.end();
    setTimeout(() => reject(new Error("no response headers")), 10_000).unref();
  });
}

function readAll(base: string, p: string): { firstByte: Promise<boolean>; done: Promise<{ status: number; body: Buffer }> } {
  let first!: (v: boolean) => void;
  const firstByte = new Promise<boolean>((r) => (first = r));
  const done = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = request(new URL(p, base), { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => {
        first(true);
        chunks.push(c);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", (e) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }) ?? e);
      res.on("close", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
  void done.then(() => first(false));
  return { firstByte, done };
}

async function waitFor(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition never held");
}
