import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { FsStore } from "../../src/store/fs-store.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";
import { putFixtures, storeFixtures, type StoredFixture } from "./fixtures.js";

const JULIA_TOKEN = "julia-token-0123456789abcdef";
const ACME_TOKEN = "acme-token-0123456789abcdef";
const ADMIN_TOKEN = "admin-token-0123456789abcdef";

describe("access tokens", () => {
  const t = tempDir("pkgpub-access-");
  let server: TestServer;
  let fixtures: StoredFixture[];
  const log: string[] = [];

  beforeAll(async () => {
    const store = new FsStore(t.dir);
    fixtures = storeFixtures();
    await putFixtures(store, fixtures);
    const sink = new PassThrough();
    sink.on("data", (c: Buffer) => log.push(c.toString("utf8")));
    server = await startTestServer({
      store,
      port: 0,
      log: sink,
      tokens: [
        { name: "julia-ci", token: JULIA_TOKEN, scopes: ["julia"] },
        { name: "acme-ci", token: ACME_TOKEN, scopes: ["/repos/acme"] },
        { name: "admin", token: ADMIN_TOKEN, scopes: ["/"] },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    t.cleanup();
  });

  it("asks for a token (401), refuses a wrong or out-of-scope one (403), accepts the right one in every client's form", async () => {
    for (const fx of fixtures) {
      const none = await raw(server.url, fx.path);
      expect(none.status, fx.path).toBe(401);
      expect(none.headers["www-authenticate"], fx.path).toContain("Bearer");
      const wrong = await raw(server.url, fx.path, { headers: { Authorization: "Bearer not-a-token-at-all-xxxxxxxx" } });
      expect(wrong.status, fx.path).toBe(403);
      const julia = fx.path.startsWith("/repos/") === false;
      const right = julia ? JULIA_TOKEN : ACME_TOKEN;
      const outOfScope = julia ? ACME_TOKEN : JULIA_TOKEN;
      // Julia's Pkg sends Bearer; mix and rebar3 send the repo key raw; .netrc gives Basic.
      for (const auth of [`Bearer ${right}`, right, `Basic ${Buffer.from(`x:${right}`).toString("base64")}`, `Bearer ${ADMIN_TOKEN}`]) {
        const ok = await raw(server.url, fx.path, { headers: { Authorization: auth } });
        expect(ok.status, `${fx.path} ${auth.slice(0, 6)}`).toBe(200);
        expect(ok.body.equals(fx.bytes)).toBe(true);
      }
      const denied = await raw(server.url, fx.path, { headers: { Authorization: `Bearer ${outOfScope}` } });
      expect(denied.status, fx.path).toBe(403);
      const head = await raw(server.url, fx.path, { method: "HEAD" });
      expect(head.status, fx.path).toBe(401);
    }
    // A scope covers whole segments: /repos/acme does not open /repos/acmex.
    const sibling = await raw(server.url, "/repos/acmex/names", { headers: { Authorization: ACME_TOKEN } });
    expect(sibling.status).toBe(403);
  });

  it("keeps /health open, guards /metrics, and marks immutable responses private", async () => {
    expect((await raw(server.url, "/health")).status).toBe(200);
    expect((await raw(server.url, "/metrics")).status).toBe(401);
    expect((await raw(server.url, "/metrics", { headers: { Authorization: `Bearer ${JULIA_TOKEN}` } })).status).toBe(403);
    expect((await raw(server.url, "/metrics", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    const pkg = fixtures.find((f) => f.path.startsWith("/package/"))!;
    const res = await raw(server.url, pkg.path, { headers: { Authorization: `Bearer ${JULIA_TOKEN}` } });
    expect(res.headers["cache-control"]).toBe("private, max-age=31536000, immutable");
  });

  it("lists on the browse page only what the token may read", async () => {
    const acme = (await raw(server.url, "/", { headers: { Authorization: ACME_TOKEN } })).body.toString();
    expect(acme).toContain("repos/acme");
    expect(acme).not.toContain("Pkg.Registry.add");
    const julia = (await raw(server.url, "/", { headers: { Authorization: `Bearer ${JULIA_TOKEN}` } })).body.toString();
    expect(julia).not.toContain("repos/acme");
    expect((await raw(server.url, "/")).status).toBe(401);
  });

  it("never writes a token to the log, and names the token used instead", async () => {
    await new Promise((r) => setTimeout(r, 50));
    const text = log.join("");
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of [JULIA_TOKEN, ACME_TOKEN, ADMIN_TOKEN, "not-a-token-at-all"]) expect(text).not.toContain(secret);
    expect(text).toContain('"token":"acme-ci"');
  });
});
