import { request } from "node:http";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/serve.js";
import { FsStore } from "../../src/store/fs-store.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream, type Route } from "../server/fake-upstream.js";
import { signedRepo, type SignedRepoFixture } from "../server/hex-fixture.js";
import { treeTarball } from "../server/tarballs.js";
import { contents } from "./support/julia-world.js";

const PKG = "7876af07-990d-54b4-ab0e-23690620f79a";
const OWN = "0a1b2c3d-0000-4000-8000-00000000000a";

interface Answer {
  status: number;
  body: Buffer;
  /** The response ended before its Content-Length (or its last chunk): the client can tell it is broken. */
  cut: boolean;
  xCache?: string;
}

/** A GET that reports a response cut short instead of throwing. */
function get(base: string, p: string): Promise<Answer> {
  const url = new URL(p, base);
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let cut = false;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("aborted", () => (cut = true));
      res.on("error", () => (cut = true));
      res.on("close", () => {
        const body = Buffer.concat(chunks);
        const length = Number(res.headers["content-length"]);
        if (!res.complete || (Number.isSafeInteger(length) && body.length !== length)) cut = true;
        resolve({ status: res.statusCode ?? 0, body, cut, xCache: res.headers["x-cache"] as string | undefined });
      });
    });
    req.on("error", () => resolve({ status: 0, body: Buffer.alloc(0), cut: true }));
    req.end();
  });
}

const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));

/** Upstream behaviours, each a route for the faulty resource; `good` is what it should have been. */
const faults: Record<string, (good: Buffer, ctx: { wrong: Buffer; elsewhere: string; path: string }) => Route> = {
  "500 Internal Server Error": () => (_req, res) => void res.writeHead(500, { "Content-Length": "4" }).end("oops"),
  "503 without a body": () => (_req, res) => void res.writeHead(503).end(),
  "reset mid-body": (good) => (_req, res) => {
    res.writeHead(200, { "Content-Length": String(good.length) });
    res.write(half(good), () => res.socket?.destroy());
  },
  "truncated body with a matching Content-Length": (good) => (_req, res) => {
    const cut = good.subarray(0, good.length - 17);
    res.writeHead(200, { "Content-Length": String(cut.length) }).end(cut);
  },
  "wrong content (another valid resource)": (_good, { wrong }) => (_req, res) => void res.writeHead(200, { "Content-Length": String(wrong.length) }).end(wrong),
  "an HTML error page with 200": () => (_req, res) => void res.writeHead(200, { "Content-Type": "text/html" }).end("<html>maintenance</html>"),
  "slow drip that stalls": (good) => (_req, res) => {
    res.writeHead(200, { "Content-Length": String(good.length) });
    res.write(good.subarray(0, 10));
    // and then nothing: the body-gap timeout must end it
  },
  "redirect to another host": (_good, { elsewhere, path: p }) => (_req, res) => void res.writeHead(302, { Location: `${elsewhere}${p}`, "Content-Length": "0" }).end(),
  "redirect loop on the same host": (_good, { path: p }) => (_req, res) => void res.writeHead(302, { Location: p, "Content-Length": "0" }).end(),
  "no answer at all": () => () => new Promise<void>(() => undefined),
};

/**
 * Invariant 6 under upstream faults: for each fault and each kind of upstream resource (a Julia
 * package tarball, streamed through; Hex registry files and tarballs, checked before they are
 * served), the client gets an error status or a visibly cut response (never the good bytes'
 * place taken silently by bad ones from the cache), nothing is cached (the same request
 * after the upstream recovers is a miss that returns the good bytes), the bucket is untouched,
 * and the server keeps answering.
 */
describe("the proxy under upstream faults", () => {
  const t = tempDir("pkgpub-rel-upstream-");
  let upstream: FakeUpstream;
  let elsewhere: FakeUpstream;
  let store: FsStore;
  let before: Map<string, Buffer>;
  let pkg: { hash: string; gz: Buffer };
  let other: { hash: string; gz: Buffer };
  let repo: SignedRepoFixture;
  let impostor: SignedRepoFixture;
  const servers: TestServer[] = [];
  let n = 0;

  beforeAll(async () => {
    pkg = treeTarball(path.join(t.dir, "pkg"), { "Project.toml": 'name = "Example"\n', "src/Example.jl": `module Example\n${"x = 1\n".repeat(5000)}end\n` });
    other = treeTarball(path.join(t.dir, "other"), { "README.md": "another tree\n" });
    const own = treeTarball(path.join(t.dir, "own"), { "Registry.toml": `name = "Own"\nuuid = "${OWN}"\n\n[packages]\n` });
    repo = signedRepo("hexpm");
    impostor = signedRepo("hexpm");
    store = new FsStore(path.join(t.dir, "store"));
    await store.put(`registry/${OWN}/${own.hash}`, own.gz);
    await store.put("registries", `/registry/${OWN}/${own.hash}\n`);
    before = await contents(store);
    upstream = await FakeUpstream.start();
    elsewhere = await FakeUpstream.start("127.0.0.2");
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await upstream.close();
    await elsewhere.close();
    t.cleanup();
  });

  async function serve(): Promise<TestServer> {
    const s = await startTestServer({
      store,
      port: 0,
      log: new PassThrough(),
      julia: { upstream: upstream.url, registriesTtl: 60 },
      hexMirrors: [{ name: "hexpm", upstream: upstream.url, repository: "hexpm", publicKey: repo.publicKeyPem, registryTtl: 0.001 }],
      cache: { dir: path.join(t.dir, `cache-${n++}`) },
      upstream: { timeout: 0.5, failureThreshold: 1000, cooldown: 1 },
    });
    servers.push(s);
    return s;
  }

  const resources = () => [
    { label: "julia package", path: `/package/${PKG}/${pkg.hash}`, upstreamPath: `/package/${PKG}/${pkg.hash}`, good: pkg.gz, wrong: other.gz },
    { label: "hex packages/alpha", path: "/repos/hexpm/packages/alpha", upstreamPath: "/packages/alpha", good: repo.files.get("/packages/alpha")!, wrong: impostor.files.get("/packages/alpha")! },
    { label: "hex tarball", path: "/repos/hexpm/tarballs/alpha-1.0.0.tar", upstreamPath: "/tarballs/alpha-1.0.0.tar", good: repo.files.get("/tarballs/alpha-1.0.0.tar")!, wrong: impostor.files.get("/tarballs/beta-0.1.0.tar")! },
    { label: "hex versions", path: "/repos/hexpm/versions", upstreamPath: "/versions", good: repo.files.get("/versions")!, wrong: impostor.files.get("/versions")! },
  ];

  it.each(Object.keys(faults))("%s", async (name) => {
    for (const r of resources()) {
      upstream.routes.clear();
      for (const [p, bytes] of repo.files) upstream.bytes(p, bytes);
      upstream.routes.set(r.upstreamPath, faults[name]!(r.good, { wrong: r.wrong, elsewhere: elsewhere.url, path: r.upstreamPath }));
      const s = await serve();
      const label = `${name}: ${r.label}`;
      const answer = await get(s.url, r.path);
      // Never a silent substitute: an error status, or a response the client sees is broken,
      // or (a Julia miss streams through while it is checked) bytes that are not the good ones,
      // which Pkg rejects by their tree hash.
      const failedVisibly = answer.status >= 500 || answer.cut;
      const streamedBad = r.label === "julia package" && answer.status === 200 && !answer.body.equals(r.good);
      expect(failedVisibly || streamedBad, `${label}: ${answer.status} ${answer.body.length} bytes`).toBe(true);
      if (answer.status >= 500) expect(answer.body.toString(), label).toMatch(/upstream|verif|checksum|signature|signed|tarball/i);
      expect(elsewhere.requests, label).toHaveLength(0);

      // The upstream recovers: the next request is fetched again, and is right.
      upstream.routes.clear();
      for (const [p, bytes] of repo.files) upstream.bytes(p, bytes);
      upstream.bytes(r.upstreamPath, r.good);
      let again = await get(s.url, r.path);
      for (let i = 0; i < 40 && again.status !== 200; i++) {
        await new Promise((res) => setTimeout(res, 50));
        again = await get(s.url, r.path);
      }
      expect(again.status, label).toBe(200);
      expect(again.body.equals(r.good), `${label}: good bytes after recovery`).toBe(true);
      if (r.label === "julia package") expect(again.xCache, `${label}: nothing was cached`).toBe("miss");
      // Still serving its own content.
      expect((await get(s.url, "/registries")).status, label).toBe(200);
    }
    expect([...(await contents(store)).entries()].map(([k, v]) => [k, v.length])).toEqual([...before.entries()].map(([k, v]) => [k, v.length]));
  });

  it("a slow drip that completes within the body-gap timeout is served and cached", async () => {
    upstream.routes.clear();
    const p = `/package/${PKG}/${pkg.hash}`;
    upstream.routes.set(p, async (_req, res) => {
      res.writeHead(200, { "Content-Length": String(pkg.gz.length) });
      const step = Math.ceil(pkg.gz.length / 8);
      for (let i = 0; i < pkg.gz.length; i += step) {
        res.write(pkg.gz.subarray(i, i + step));
        await new Promise((r) => setTimeout(r, 100));
      }
      res.end();
    });
    const s = await serve();
    const first = await get(s.url, p);
    expect(first.status).toBe(200);
    expect(first.body.equals(pkg.gz)).toBe(true);
    let hit = await get(s.url, p);
    for (let i = 0; i < 40 && hit.xCache !== "hit"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      hit = await get(s.url, p);
    }
    expect(hit.xCache).toBe("hit");
    expect(hit.body.equals(pkg.gz)).toBe(true);
  });
});

