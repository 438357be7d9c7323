import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Agent, get as httpGet, type IncomingMessage } from "node:http";
import { mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { itInOneProcess, startTestServer, TEST_WORKERS, type TestServer } from "../support/serve.js";
import { openStore } from "../../src/store/open-store.js";
import { FsStore } from "../../src/store/fs-store.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";
import { ART_HASH, PKG_HASH, PKG_UUID, putFixtures, storeFixtures, type StoredFixture } from "./fixtures.js";
import { PassThrough } from "node:stream";

type StoreMaker = () => Promise<{ store: Store; cleanup: () => void }>;

const makers: Array<[string, StoreMaker]> = [
  [
    "directory store",
    async () => {
      const t = tempDir("pkgpub-serve-");
      return { store: new FsStore(t.dir), cleanup: t.cleanup };
    },
  ],
  [
    "S3 store",
    async () => {
      const env = { ...process.env, ...inject("s3Env") };
      const bucket = `serve-${randomBytes(4).toString("hex")}`;
      const client = new S3Client({
        region: env.AWS_REGION,
        endpoint: env.AWS_ENDPOINT_URL_S3,
        forcePathStyle: true,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      client.destroy();
      return { store: await openStore(`s3://${bucket}/some/prefix`, env), cleanup: () => undefined };
    },
  ],
];

describe.each(makers)("pkgpub serve over the %s", (_name, make) => {
  let server: TestServer;
  let fixtures: StoredFixture[];
  let cleanup: () => void;
  const logLines: string[] = [];

  beforeAll(async () => {
    const made = await make();
    cleanup = made.cleanup;
    fixtures = storeFixtures();
    await putFixtures(made.store, fixtures);
    const log = new PassThrough();
    log.on("data", (c: Buffer) => logLines.push(...c.toString("utf8").split("\n").filter(Boolean)));
    server = await startTestServer({ store: made.store, port: 0, log });
  });
  afterAll(async () => {
    await server?.close();
    cleanup?.();
  });

  it("serves every route with its bytes, type, length, strong ETag and cache policy, never Content-Encoding", async () => {
    for (const fx of fixtures) {
      const res = await raw(server.url, fx.path, { headers: { "Accept-Encoding": "gzip, zstd" } });
      expect(res.status, fx.path).toBe(200);
      expect(res.body.equals(fx.bytes), fx.path).toBe(true);
      expect(res.headers["content-type"], fx.path).toContain(fx.contentType);
      expect(res.headers["content-length"], fx.path).toBe(String(fx.bytes.length));
      expect(res.headers["content-encoding"], fx.path).toBeUndefined();
      expect(res.headers["etag"], fx.path).toMatch(/^"[^"]+"$/);
      expect(res.headers["accept-ranges"], fx.path).toBe("bytes");
      if (fx.immutable) expect(res.headers["cache-control"], fx.path).toBe("public, max-age=31536000, immutable");
      else expect(res.headers["cache-control"], fx.path).toBe("no-cache");
    }
  });

  it("answers HEAD with the GET headers and no body", async () => {
    for (const fx of fixtures) {
      const get = await raw(server.url, fx.path);
      const head = await raw(server.url, fx.path, { method: "HEAD" });
      expect(head.status, fx.path).toBe(200);
      expect(head.body.length, fx.path).toBe(0);
      expect(head.headers["content-length"], fx.path).toBe(String(fx.bytes.length));
      expect(head.headers["etag"], fx.path).toBe(get.headers["etag"]);
      expect(head.headers["content-type"], fx.path).toBe(get.headers["content-type"]);
    }
  });

  it("serves single byte ranges and answers unsatisfiable or absurd ones sanely", async () => {
    const fx = fixtures.find((f) => f.path.startsWith("/artifact/"))!;
    const size = fx.bytes.length;
    const cases: Array<[string, number, Buffer | null, string | undefined]> = [
      ["bytes=0-9", 206, fx.bytes.subarray(0, 10), `bytes 0-9/${size}`],
      ["bytes=100-", 206, fx.bytes.subarray(100), `bytes 100-${size - 1}/${size}`],
      ["bytes=-5", 206, fx.bytes.subarray(size - 5), `bytes ${size - 5}-${size - 1}/${size}`],
      [`bytes=${size - 1}-${size + 1000}`, 206, fx.bytes.subarray(size - 1), `bytes ${size - 1}-${size - 1}/${size}`],
      ["bytes=0-99999999999999999999999999", 206, fx.bytes, `bytes 0-${size - 1}/${size}`],
      ["bytes=-99999999999999999999999999", 206, fx.bytes, `bytes 0-${size - 1}/${size}`],
      [`bytes=${size}-`, 416, null, `bytes */${size}`],
      ["bytes=99999999999999999999999999-", 416, null, `bytes */${size}`],
      ["bytes=-0", 416, null, `bytes */${size}`],
      // Not a single satisfiable range: the whole representation.
      ["bytes=9-2", 200, fx.bytes, undefined],
      ["bytes=0-1,5-6", 200, fx.bytes, undefined],
      ["items=0-1", 200, fx.bytes, undefined],
      ["bytes=abc", 200, fx.bytes, undefined],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const res = await raw(server.url, fx.path, { headers: { Range: range } });
      expect(res.status, range).toBe(status);
      expect(res.headers["content-range"], range).toBe(contentRange);
      if (body) {
        expect(res.body.equals(body), range).toBe(true);
        expect(res.headers["content-length"], range).toBe(String(body.length));
      }
    }
    const head = await raw(server.url, fx.path, { method: "HEAD", headers: { Range: "bytes=0-9" } });
    expect(head.status).toBe(206);
    expect(head.headers["content-length"]).toBe("10");
    expect(head.body.length).toBe(0);
  });

  it("answers If-None-Match with 304 for a matching tag, *, or a list, and never for an empty header", async () => {
    for (const fx of fixtures) {
      const first = await raw(server.url, fx.path);
      const etag = first.headers["etag"] as string;
      for (const inm of [etag, `"nope", ${etag}`, `W/${etag}`, "*"]) {
        const res = await raw(server.url, fx.path, { headers: { "If-None-Match": inm } });
        expect(res.status, `${fx.path} ${inm}`).toBe(304);
        expect(res.body.length).toBe(0);
        expect(res.headers["etag"]).toBe(etag);
      }
      for (const inm of ["", " ", `"other"`]) {
        const res = await raw(server.url, fx.path, { headers: { "If-None-Match": inm } });
        expect(res.status, `${fx.path} ${JSON.stringify(inm)}`).toBe(200);
        expect(res.body.equals(fx.bytes)).toBe(true);
      }
    }
    // "*" matches only what exists.
    const missing = await raw(server.url, `/artifact/${"9".repeat(40)}`, { headers: { "If-None-Match": "*" } });
    expect(missing.status).toBe(404);
  });

  it("answers 404 for unknown resources and 400 for malformed ones, with a reason", async () => {
    const notFound = [
      `/package/${PKG_UUID}/${"1".repeat(40)}`,
      `/artifact/${"2".repeat(40)}`,
      `/registry/${PKG_UUID}/${PKG_HASH}`,
      "/repos/acme/packages/nope",
      "/repos/acme/tarballs/foo_bar-9.9.9.tar",
      "/repos/other/names",
      "/repos/acme/docs/foo_bar-1.0.0.tar.gz",
      "/nothing/here",
      "/registries.newest", // only the two flavours exist
      "/favicon.ico",
    ];
    for (const p of notFound) {
      const res = await raw(server.url, p);
      expect(res.status, p).toBe(404);
    }
    const malformed = [
      `/package/${PKG_UUID.toUpperCase()}/${PKG_HASH}`,
      `/package/${PKG_UUID}/${PKG_HASH.toUpperCase()}`,
      `/package/not-a-uuid/${PKG_HASH}`,
      `/package/${PKG_UUID}/${PKG_HASH.slice(1)}`,
      `/package/${PKG_UUID}`,
      `/artifact/${ART_HASH}/extra`,
      `/artifact/../registries`,
      `/package/${PKG_UUID}/../../registries`,
      `/artifact/%2e%2e/registries`,
      `/repos/acme/packages/..%2f..%2fregistries`,
      `/repos/acme/packages/%2E%2E`,
      `/repos/acme/packages/a%00b`,
      `/repos/acme//packages/foo_bar`,
      `/repos/acme/packages/Foo`,
      `/repos/..%5c..%5cetc/names`,
      `/repos/acme/tarballs/foo_bar-1.0.tar`,
      `/repos/acme/tarballs/foo_bar.tar`,
      `/repos/acme/packages/foo\\bar`,
      `/${"a".repeat(5000)}`,
      // Absolute-form targets never make the server fetch anything: they are refused.
      `http://169.254.169.254/latest/meta-data`,
      `http://127.0.0.1:1/registries`,
      `/artifact/${"a".repeat(2000)}`,
    ];
    for (const p of malformed) {
      const res = await raw(server.url, p);
      expect(res.status, p).toBe(400);
      expect(res.body.toString().length, p).toBeGreaterThan(5);
    }
  });

  it("answers 405 with Allow for every other method, and keeps serving through all of it", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"]) {
      const res = await raw(server.url, "/registries", { method });
      expect(res.status, method).toBe(405);
      expect(res.headers["allow"], method).toBe("GET, HEAD");
    }
    const after = await raw(server.url, "/registries");
    expect(after.status).toBe(200);
    expect(after.body.equals(fixtures[0]!.bytes)).toBe(true);
  });

  it("keeps connections alive between requests", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (const fx of fixtures.slice(0, 4)) {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const u = new URL(server.url + fx.path);
        const req = httpGet({ host: u.hostname, port: u.port, path: u.pathname, agent }, resolve);
        req.on("socket", (s) => sockets.add(s));
        req.on("error", reject);
      });
      expect(res.headers["connection"]).toBe("keep-alive");
      res.resume();
      await new Promise((r) => res.on("end", r));
    }
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  // A worker buffers its log lines (4 KB) until it stops; serve-cli.test.ts reads them at exit.
  itInOneProcess("writes one JSON log line per request", async () => {
    const before = logLines.length;
    await raw(server.url, `/package/${PKG_UUID}/${PKG_HASH}`);
    await new Promise((r) => setTimeout(r, 50));
    const lines = logLines
      .slice(before)
      .map((l) => JSON.parse(l))
      .filter((l) => l.path.startsWith("/package/"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: "GET", path: `/package/${PKG_UUID}/${PKG_HASH}`, status: 200, route: "package" });
  });
});

describe("pkgpub serve when the store fails or the client goes away", () => {
  let server: TestServer;
  let dir: string;
  let done: () => void;
  const big = randomBytes(16 * 1024 * 1024);

  beforeAll(async () => {
    const t = tempDir("pkgpub-serve-fail-");
    dir = t.dir;
    done = t.cleanup;
    const store = new FsStore(dir);
    await store.put(`artifact/${ART_HASH}`, big);
    await store.put("registries", "/registry/x\n");
    // A symlink loop where an object should be: opening it fails with ELOOP, a real store error.
    mkdirSync(path.join(dir, "package", PKG_UUID), { recursive: true });
    symlinkSync("loop", path.join(dir, "package", PKG_UUID, PKG_HASH));
    symlinkSync(PKG_HASH, path.join(dir, "package", PKG_UUID, "loop"));
    writeFileSync(path.join(dir, "placeholder"), "");
    server = await startTestServer({ store, port: 0, log: new PassThrough() });
  });
  afterAll(async () => {
    await server?.close();
    done?.();
  });

  it("answers 500 for a failing store read and keeps serving", async () => {
    const res = await raw(server.url, `/package/${PKG_UUID}/${PKG_HASH}`);
    expect(res.status).toBe(500);
    expect(res.body.toString()).not.toContain(dir);
    const ok = await raw(server.url, "/registries");
    expect(ok.status).toBe(200);
  });

  // Counts this process's open files: the server must be in it.
  itInOneProcess("closes the store stream when a client disconnects mid-body", async () => {
    const openFds = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith(ART_HASH);
        } catch {
          return false;
        }
      }).length;
    const { request } = await import("node:http");
    const u = new URL(server.url);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: `/artifact/${ART_HASH}`, agent: false }, (res) => {
        res.once("data", () => {
          expect(openFds()).toBe(1);
          req.destroy();
          resolve();
        });
      });
      req.on("error", (e) => (req.destroyed ? undefined : reject(e)));
      req.end();
    });
    for (let i = 0; i < 100 && openFds() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBe(0);
    const again = await raw(server.url, `/artifact/${ART_HASH}`, { headers: { Range: "bytes=0-3" } });
    expect(again.status).toBe(206);
    expect(again.body.equals(big.subarray(0, 4))).toBe(true);
  });
});
