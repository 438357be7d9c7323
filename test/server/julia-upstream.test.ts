import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { existsSync } from "node:fs";
import { PassThrough } from "node:stream";
import { get } from "node:http";
import { FsStore } from "../../src/store/fs-store.js";
import { itInOneProcess, startTestServer, TEST_WORKERS, type TestServer } from "../support/serve.js";
import type { ServerOptions } from "../../src/server/start-server.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "./fake-upstream.js";
import { raw } from "./http-client.js";
import { registryFiles, treeTarball } from "./tarballs.js";

const GENERAL = "23338594-aafe-5451-b93e-139f81909106";
const OWN = "0a1b2c3d-0000-4000-8000-00000000000a";
const PKG = "7876af07-990d-54b4-ab0e-23690620f79a";

describe("Julia upstream fallthrough", () => {
  const t = tempDir("pkgpub-julia-up-");
  let upstream: FakeUpstream;
  let other: FakeUpstream;
  let pkg: { hash: string; gz: Buffer };
  let pkg2: { hash: string; gz: Buffer };
  let art: { hash: string; gz: Buffer };
  let general: { hash: string; gz: Buffer };
  let own: { hash: string; gz: Buffer };
  let store: FsStore;
  const servers: TestServer[] = [];
  let n = 0;

  async function serve(extra: Partial<Omit<ServerOptions, "store">> = {}): Promise<TestServer> {
    const s = await startTestServer({
      store,
      port: 0,
      log: new PassThrough(),
      julia: { upstream: upstream.url, registriesTtl: 60 },
      cache: { dir: path.join(t.dir, `cache-${n++}`) },
      upstream: { timeout: 5, failureThreshold: 3, cooldown: 60 },
      ...extra,
    });
    servers.push(s);
    return s;
  }

  beforeAll(async () => {
    pkg = treeTarball(path.join(t.dir, "pkg"), {
      "Project.toml": 'name = "Example"\n',
      "src/Example.jl": "module Example end\n",
      "bin/run": { content: "#!/bin/sh\n", mode: 0o755 },
      "link": { symlink: "src/Example.jl" },
    });
    pkg2 = treeTarball(path.join(t.dir, "pkg2"), { "README.md": "two\n" });
    art = treeTarball(path.join(t.dir, "art"), { "lib/libfoo.so": Buffer.alloc(50_000, 7) });
    general = treeTarball(path.join(t.dir, "general"), registryFiles("General", GENERAL, [{ name: "Example", uuid: PKG, versions: { "0.5.3": pkg.hash } }]));
    own = treeTarball(path.join(t.dir, "own"), registryFiles("Own", OWN, []));
    store = new FsStore(path.join(t.dir, "store"));
    await store.put(`registry/${OWN}/${own.hash}`, own.gz);
    await store.put("registries", `/registry/${OWN}/${own.hash}\n`);
    upstream = await FakeUpstream.start();
    other = await FakeUpstream.start("127.0.0.2");
  });
  afterEach(async () => {
    while (servers.length) await servers.pop()!.close();
    upstream.routes.clear();
    upstream.requests.length = 0;
    other.requests.length = 0;
  });
  afterAll(async () => {
    await upstream.close();
    await other.close();
    t.cleanup();
  });

  it("merges /registries: one line per uuid, the store's own line winning, sorted", async () => {
    upstream.bytes(
      "/registries",
      Buffer.from(`/registry/${GENERAL}/${general.hash}\n/registry/${OWN}/${"f".repeat(40)}\nnot a registry line\n`),
    );
    const s = await serve();
    const res = await raw(s.url, "/registries");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    expect(res.body.toString()).toBe(`/registry/${OWN}/${own.hash}\n/registry/${GENERAL}/${general.hash}\n`);
    // Reused for the TTL: the upstream is asked once.
    await raw(s.url, "/registries");
    expect(upstream.count("/registries")).toBeLessThanOrEqual(TEST_WORKERS);
  });

  // One process's refresh timing: a second worker refreshes on its own.
  itInOneProcess("answers /registries from the last list while a refresh is pending, then serves the new one", async () => {
    upstream.bytes("/registries", Buffer.from(`/registry/${GENERAL}/${general.hash}\n`));
    const s = await serve({ julia: { upstream: upstream.url, registriesTtl: 0.001 } });
    expect((await raw(s.url, "/registries")).body.toString()).toContain(general.hash);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const newer = "9".repeat(40);
    upstream.routes.set("/registries", async (_req, res) => {
      await gate;
      const body = Buffer.from(`/registry/${GENERAL}/${newer}\n`);
      res.writeHead(200, { "Content-Length": String(body.length) });
      res.end(body);
    });
    await new Promise((r) => setTimeout(r, 5));
    // The upstream has not answered (it cannot: the gate is closed), yet /registries does.
    const during = await raw(s.url, "/registries");
    expect(during.status).toBe(200);
    expect(during.body.toString()).toContain(general.hash);
    await waitFor(() => upstream.count("/registries") === 2);
    release();
    await waitFor(async () => (await raw(s.url, "/registries")).body.toString().includes(newer));
  });

  it("follows a same-origin redirect for /registries (as pkg.julialang.org's flavours do)", async () => {
    upstream.routes.set("/registries", (_req, res) => {
      res.writeHead(302, { Location: "/registries.eager", "Content-Length": "0" });
      res.end();
    });
    upstream.bytes("/registries.eager", Buffer.from(`/registry/${GENERAL}/${general.hash}\n`));
    const s = await serve();
    const res = await raw(s.url, "/registries");
    expect(res.body.toString()).toContain(`/registry/${GENERAL}/${general.hash}`);
  });

  it("fetches a miss from the upstream, streams it, caches it verified, then serves hits with ranges", async () => {
    const p = `/package/${PKG}/${pkg.hash}`;
    upstream.bytes(p, pkg.gz);
    const s = await serve();
    const miss = await raw(s.url, p);
    expect(miss.status).toBe(200);
    expect(miss.headers["x-cache"]).toBe("miss");
    expect(miss.headers["content-type"]).toBe("application/x-gzip");
    expect(miss.headers["content-encoding"]).toBeUndefined();
    expect(miss.body.equals(pkg.gz)).toBe(true);
    await waitFor(() => existsSync(path.join(t.dir, `cache-${n - 1}`, "package", PKG, pkg.hash)));
    const hit = await raw(s.url, p);
    expect(hit.status).toBe(200);
    expect(hit.headers["x-cache"]).toBe("hit");
    expect(hit.body.equals(pkg.gz)).toBe(true);
    const part = await raw(s.url, p, { headers: { Range: "bytes=0-1" } });
    expect(part.status).toBe(206);
    expect(part.body.equals(pkg.gz.subarray(0, 2))).toBe(true);
    expect(upstream.count(p)).toBe(1);
    // Registries are verified with the no-skip rule, artifacts with the skip-empty one.
    const r = `/registry/${GENERAL}/${general.hash}`;
    const a = `/artifact/${art.hash}`;
    upstream.bytes(r, general.gz);
    upstream.bytes(a, art.gz);
    for (const q of [r, a]) {
      expect((await raw(s.url, q)).body.length).toBeGreaterThan(0);
      await waitFor(async () => (await raw(s.url, q, { method: "HEAD" })).headers["x-cache"] === "hit");
    }
    expect(upstream.count(r) + upstream.count(a)).toBe(2);
    // The proxy never writes to the store: what it fetched lives in its cache only.
    const keys: string[] = [];
    for await (const o of store.list("")) keys.push(o.key);
    expect(keys.sort()).toEqual([`registry/${OWN}/${own.hash}`, "registries"].sort());
    const metrics = (await raw(s.url, "/metrics")).body.toString();
    expect(metrics).toMatch(/pkgpub_cache_requests_total\{upstream="julia",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/pkgpub_cache_requests_total\{upstream="julia",result="miss"\} 3/);
  });

  // The other worker may still hold the evicted object in memory (immutable, so harmless).
  itInOneProcess("keeps the cache under its size limit, evicting the least recently used", async () => {
    const a = `/package/${PKG}/${pkg.hash}`;
    const b = `/artifact/${art.hash}`;
    upstream.bytes(a, pkg.gz);
    upstream.bytes(b, art.gz);
    // Room for the artifact or the package, not both.
    const s = await serve({ cache: { dir: path.join(t.dir, `cache-${n++}`), maxBytes: art.gz.length + pkg.gz.length - 1 } });
    await raw(s.url, a);
    await waitFor(async () => (await raw(s.url, a, { method: "HEAD" })).headers["x-cache"] === "hit");
    await raw(s.url, b);
    await waitFor(async () => (await raw(s.url, b, { method: "HEAD" })).headers["x-cache"] === "hit");
    expect((await raw(s.url, a)).headers["x-cache"]).toBe("miss");
    expect(upstream.count(a)).toBe(2);
  });

  it("serves a corrupted upstream package but never caches it", async () => {
    const p = `/package/${PKG}/${pkg.hash}`;
    upstream.bytes(p, pkg2.gz); // the wrong tree under this hash
    const s = await serve();
    for (let i = 1; i <= 3; i++) {
      const res = await raw(s.url, p);
      expect(res.status).toBe(200);
      expect(res.headers["x-cache"]).toBe("miss");
      expect(res.body.equals(pkg2.gz)).toBe(true);
      await waitFor(async () => (await raw(s.url, "/metrics")).body.toString().includes(`result="rejected"} ${i}`));
    }
    expect(upstream.count(p)).toBe(3);
    // Not gzip at all: refused at its first bytes (502), nothing cached, asked again next time.
    const q = `/package/${PKG}/${pkg2.hash}`;
    upstream.bytes(q, Buffer.from("<html>oops</html>"));
    const html = await raw(s.url, q);
    expect(html.status).toBe(502);
    expect(html.body.toString()).toMatch(/not gzip/);
    expect((await raw(s.url, q)).status).toBe(502);
    expect(upstream.count(q)).toBe(2);
  });

  it("fetches concurrent misses of one resource once", async () => {
    const p = `/artifact/${art.hash}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    upstream.routes.set(p, async (_req, res) => {
      await gate;
      res.writeHead(200, { "Content-Length": String(art.gz.length) });
      // In two pieces, so followers really wait for a download in progress.
      res.write(art.gz.subarray(0, 1000));
      setTimeout(() => res.end(art.gz.subarray(1000)), 20);
    });
    const s = await serve();
    const all = Array.from({ length: 6 }, () => raw(s.url, p));
    // Six in flight, and the scrape itself.
    await waitFor(async () => /pkgpub_http_requests_in_flight 7\n/.test((await raw(s.url, "/metrics")).body.toString()));
    release();
    const results = await Promise.all(all);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.equals(art.gz)).toBe(true);
    }
    // Once per server process: workers do not share their downloads in progress.
    expect(upstream.count(p)).toBeGreaterThanOrEqual(1);
    expect(upstream.count(p)).toBeLessThanOrEqual(TEST_WORKERS);
  });

  it("streams a download in progress to later clients of the same miss (no waiting for the end)", async () => {
    const p = `/artifact/${art.hash}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sentFirst!: () => void;
    const firstSent = new Promise<void>((r) => (sentFirst = r));
    upstream.routes.set(p, async (_req, res) => {
      res.writeHead(200, { "Content-Length": String(art.gz.length) });
      res.write(art.gz.subarray(0, 5000), () => sentFirst());
      await gate;
      res.end(art.gz.subarray(5000));
    });
    const s = await serve();
    const u = new URL(s.url);
    // Each client reports its first bytes, then its whole body.
    const client = () => {
      let first!: () => void;
      const gotFirst = new Promise<void>((r) => (first = r));
      const body = new Promise<{ status: number; xcache: unknown; bytes: Buffer }>((resolve, reject) => {
        get({ host: u.hostname, port: u.port, path: p, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => {
            chunks.push(c);
            first();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, xcache: res.headers["x-cache"], bytes: Buffer.concat(chunks) }));
          res.on("error", reject);
        }).on("error", reject);
      });
      return { gotFirst, body };
    };
    const leader = client();
    await firstSent;
    await leader.gotFirst;
    const followers = Array.from({ length: 4 }, () => client());
    // While the upstream is still holding back the rest, every follower already has bytes.
    await Promise.all(followers.map((f) => f.gotFirst));
    release();
    for (const c of [leader, ...followers]) {
      const r = await c.body;
      expect(r.status).toBe(200);
      expect(r.bytes.equals(art.gz)).toBe(true);
    }
    // Once per server process: workers do not share their downloads in progress.
    expect(upstream.count(p)).toBeLessThanOrEqual(TEST_WORKERS);
    await waitFor(async () => (await raw(s.url, p, { method: "HEAD" })).headers["x-cache"] === "hit");
  });

  it("answers 404 when the upstream has nothing, and HEAD asks the upstream with HEAD", async () => {
    const s = await serve();
    expect((await raw(s.url, `/package/${PKG}/${"3".repeat(40)}`)).status).toBe(404);
    upstream.bytes(`/artifact/${art.hash}`, art.gz);
    const head = await raw(s.url, `/artifact/${art.hash}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(art.gz.length));
    expect(upstream.count(`/artifact/${art.hash}`, "HEAD")).toBe(1);
    expect(upstream.count(`/artifact/${art.hash}`, "GET")).toBe(0);
  });

  it("refuses a redirect to another host and never contacts it", async () => {
    const p = `/package/${PKG}/${pkg.hash}`;
    upstream.routes.set(p, (_req, res) => {
      res.writeHead(302, { Location: `${other.url}${p}`, "Content-Length": "0" });
      res.end();
    });
    other.bytes(p, pkg.gz);
    const s = await serve();
    const res = await raw(s.url, p);
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain("redirected to another host");
    expect(other.requests).toHaveLength(0);
  });

  // Counts one breaker's requests; each worker has its own.
  itInOneProcess("keeps serving cached content when the upstream is down, fails the rest fast with 502, and stops hammering it", async () => {
    const p = `/package/${PKG}/${pkg.hash}`;
    upstream.bytes(p, pkg.gz);
    upstream.bytes("/registries", Buffer.from(`/registry/${GENERAL}/${general.hash}\n`));
    const s = await serve({ julia: { upstream: upstream.url, registriesTtl: 0.001 } });
    await raw(s.url, p);
    await raw(s.url, "/registries");
    await waitFor(async () => (await raw(s.url, p, { method: "HEAD" })).headers["x-cache"] === "hit");
    // Now every upstream answer is a 503.
    upstream.routes.clear();
    upstream.routes.set("/registries", (_req, res) => {
      res.writeHead(503, { "Content-Length": "0" });
      res.end();
    });
    for (let i = 0; i < 3; i++) upstream.routes.set(`/artifact/${String(i).repeat(40)}`, (_q, res) => {
        res.writeHead(503).end();
      });
    expect((await raw(s.url, p)).status).toBe(200);
    const regs = await raw(s.url, "/registries");
    expect(regs.status).toBe(200);
    expect(regs.body.toString()).toContain(GENERAL); // the last list known
    const before = upstream.requests.length;
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await raw(s.url, `/artifact/${String(i % 3).repeat(40)}`));
    for (const a of answers) expect(a.status).toBe(502);
    expect(answers.at(-1)!.body.toString()).toContain("marked down");
    // The breaker opened after 3 consecutive failures (the /registries refresh counted too).
    expect(upstream.requests.length - before).toBeLessThanOrEqual(3);
    expect((await raw(s.url, p)).status).toBe(200);
  });

  it("answers 502 for an unreachable upstream and 504 for one that does not answer in time", async () => {
    const dead = await FakeUpstream.start();
    const deadUrl = dead.url;
    await dead.close();
    const s1 = await serve({ julia: { upstream: deadUrl } });
    const r1 = await raw(s1.url, `/package/${PKG}/${pkg.hash}`);
    expect(r1.status).toBe(502);
    expect(r1.body.toString()).toContain("unreachable");
    // /registries still answers from the store alone.
    const regs = await raw(s1.url, "/registries");
    expect(regs.status).toBe(200);
    expect(regs.body.toString()).toBe(`/registry/${OWN}/${own.hash}\n`);

    upstream.routes.set(`/package/${PKG}/${pkg.hash}`, () => new Promise<void>(() => undefined));
    const s2 = await serve({ upstream: { timeout: 0.3, failureThreshold: 5, cooldown: 60 } });
    const r2 = await raw(s2.url, `/package/${PKG}/${pkg.hash}`);
    expect(r2.status).toBe(504);
    expect(r2.body.toString()).toContain("did not answer");
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition never held");
}
