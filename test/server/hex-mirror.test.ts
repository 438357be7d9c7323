import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { PassThrough } from "node:stream";
import { FsStore } from "../../src/store/fs-store.js";
import { itInOneProcess, startTestServer, TEST_WORKERS, type TestServer } from "../support/serve.js";
import type { HexMirrorConfig } from "../../src/server/config.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "./fake-upstream.js";
import { raw } from "./http-client.js";
import { serveRepo, signedRepo, type SignedRepoFixture } from "./hex-fixture.js";

describe("Hex mirror", () => {
  const t = tempDir("pkgpub-hex-mirror-");
  let upstream: FakeUpstream;
  let repo: SignedRepoFixture;
  let impostor: SignedRepoFixture;
  const servers: TestServer[] = [];
  let n = 0;

  async function serve(mirror: Partial<HexMirrorConfig> = {}, timeout = 5): Promise<TestServer> {
    const s = await startTestServer({
      store: new FsStore(path.join(t.dir, "store")),
      port: 0,
      log: new PassThrough(),
      cache: { dir: path.join(t.dir, `cache-${n++}`) },
      upstream: { timeout, failureThreshold: 100, cooldown: 1 },
      hexMirrors: [{ name: "hexpm", upstream: upstream.url, repository: "hexpm", publicKey: repo.publicKeyPem, registryTtl: 300, ...mirror }],
    });
    servers.push(s);
    return s;
  }

  beforeAll(async () => {
    repo = signedRepo("hexpm");
    impostor = signedRepo("hexpm");
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

  it("passes the upstream's signed bytes through unchanged, with ETags and no Content-Encoding", async () => {
    serveRepo(upstream, repo);
    const s = await serve();
    for (const [p, bytes] of repo.files) {
      const res = await raw(s.url, `/repos/hexpm${p}`, { headers: { "Accept-Encoding": "gzip" } });
      expect(res.status, p).toBe(200);
      expect(res.body.equals(bytes), p).toBe(true);
      expect(res.headers["etag"], p).toMatch(/^"[^"]+"$/);
      expect(res.headers["content-encoding"], p).toBeUndefined();
      // rebar3's first tarball download sends an empty If-None-Match: never a 304.
      const again = await raw(s.url, `/repos/hexpm${p}`, { headers: { "If-None-Match": "" } });
      expect(again.status, p).toBe(200);
      const cond = await raw(s.url, `/repos/hexpm${p}`, { headers: { "If-None-Match": res.headers["etag"] as string } });
      expect(cond.status, p).toBe(304);
    }
    // Each resource was fetched once: the package resource serves both its route and the tarball check.
    for (const p of repo.files.keys()) expect(upstream.count(p), p).toBeLessThanOrEqual(TEST_WORKERS);
  });

  it("passes Hex's update check files (installs/) through", async () => {
    serveRepo(upstream, repo);
    const csv = Buffer.from("2.0.0,abc123,1.14.0\n");
    const sig = Buffer.from("c2lnbmF0dXJl\n");
    upstream.bytes("/installs/hex-1.x.csv", csv);
    upstream.bytes("/installs/hex-1.x.csv.signed", sig);
    const s = await serve({ allow: ["alpha"] });
    const a = await raw(s.url, "/repos/hexpm/installs/hex-1.x.csv");
    expect(a.status).toBe(200);
    expect(a.body.equals(csv)).toBe(true);
    expect((await raw(s.url, "/repos/hexpm/installs/hex-1.x.csv.signed")).body.equals(sig)).toBe(true);
    expect((await raw(s.url, "/repos/hexpm/installs/nope.csv")).status).toBe(404);
    expect((await raw(s.url, "/repos/hexpm/installs/.hidden")).status).toBe(400);
  });

  // Counts one process's revalidations; each worker keeps its own TTLs.
  itInOneProcess("revalidates registry resources after their TTL with the upstream's ETag", async () => {
    serveRepo(upstream, repo);
    const s = await serve({ registryTtl: 0.001 });
    const first = await raw(s.url, "/repos/hexpm/packages/alpha");
    await new Promise((r) => setTimeout(r, 5));
    const second = await raw(s.url, "/repos/hexpm/packages/alpha");
    expect(second.status).toBe(200);
    expect(second.body.equals(first.body)).toBe(true);
    const gets = upstream.requests.filter((r) => r.path === "/packages/alpha");
    expect(gets).toHaveLength(2);
    expect(gets[1]!.headers["if-none-match"]).toBeTruthy();
  });

  it("refuses a tarball whose sha256 is not the signed outer checksum, and never caches it", async () => {
    serveRepo(upstream, repo);
    const bad = Buffer.from(repo.files.get("/tarballs/alpha-1.0.0.tar")!);
    bad[bad.length - 600] = bad[bad.length - 600]! ^ 1;
    upstream.bytes("/tarballs/alpha-1.0.0.tar", bad);
    const s = await serve();
    for (let i = 0; i < 2; i++) {
      const res = await raw(s.url, "/repos/hexpm/tarballs/alpha-1.0.0.tar");
      expect(res.status).toBe(502);
      expect(res.body.toString()).toContain("outer checksum");
    }
    expect(upstream.count("/tarballs/alpha-1.0.0.tar")).toBe(2);
    // A version the signed package does not list is not fetched at all.
    expect((await raw(s.url, "/repos/hexpm/tarballs/alpha-9.9.9.tar")).status).toBe(404);
    expect(upstream.count("/tarballs/alpha-9.9.9.tar")).toBe(0);
  });

  it("refuses registry resources signed with another key or for another repository", async () => {
    serveRepo(upstream, impostor);
    const s = await serve();
    for (const p of ["/packages/alpha", "/names", "/versions"]) {
      const res = await raw(s.url, `/repos/hexpm${p}`);
      expect(res.status, p).toBe(502);
      expect(res.body.toString(), p).toContain("signature");
    }
    expect((await raw(s.url, "/repos/hexpm/tarballs/alpha-1.0.0.tar")).status).toBe(502);
    const other = signedRepo("acme");
    upstream.routes.clear();
    serveRepo(upstream, { ...other, publicKeyPem: other.publicKeyPem });
    const s2 = await serve({ publicKey: other.publicKeyPem });
    const res = await raw(s2.url, "/repos/hexpm/packages/alpha");
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain("acme");
  });

  it("answers 404 for packages off the allow-list but never filters names/versions", async () => {
    serveRepo(upstream, repo);
    const s = await serve({ allow: ["alpha"] });
    expect((await raw(s.url, "/repos/hexpm/packages/alpha")).status).toBe(200);
    expect((await raw(s.url, "/repos/hexpm/tarballs/alpha-1.0.0.tar")).status).toBe(200);
    expect((await raw(s.url, "/repos/hexpm/packages/beta")).status).toBe(404);
    expect((await raw(s.url, "/repos/hexpm/tarballs/beta-0.1.0.tar")).status).toBe(404);
    expect(upstream.count("/packages/beta") + upstream.count("/tarballs/beta-0.1.0.tar")).toBe(0);
    const versions = await raw(s.url, "/repos/hexpm/versions");
    expect(versions.body.equals(repo.files.get("/versions")!)).toBe(true);
  });

  it("propagates upstream 404s and serves cached copies when the upstream is down", async () => {
    serveRepo(upstream, repo);
    const s = await serve({ registryTtl: 0.001 });
    expect((await raw(s.url, "/repos/hexpm/packages/nope")).status).toBe(404);
    const pkg = await raw(s.url, "/repos/hexpm/packages/alpha");
    const tar = await raw(s.url, "/repos/hexpm/tarballs/alpha-1.0.0.tar");
    expect(tar.status).toBe(200);
    upstream.routes.clear();
    for (const p of repo.files.keys()) {
      upstream.routes.set(p, (_req, res) => {
        res.writeHead(503);
        res.end();
      });
    }
    await new Promise((r) => setTimeout(r, 5));
    const stale = await raw(s.url, "/repos/hexpm/packages/alpha");
    expect(stale.status).toBe(200);
    expect(stale.body.equals(pkg.body)).toBe(true);
    const cachedTar = await raw(s.url, "/repos/hexpm/tarballs/alpha-1.0.0.tar");
    expect(cachedTar.status).toBe(200);
    expect(cachedTar.body.equals(tar.body)).toBe(true);
    const never = await raw(s.url, "/repos/hexpm/packages/beta");
    expect(never.status).toBe(502);
    expect(never.body.toString()).toContain("503");
  });
});
