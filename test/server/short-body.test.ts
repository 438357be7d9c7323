// A store object whose body ends cleanly but short of the size the store declared (a read cut
// off without an error): the response must fail visibly and its connection close, never leave
// a keep-alive client waiting or reading the next response as the rest of this body.
import { afterEach, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Agent, get } from "node:http";
import { startServer, type RunningServer } from "../../src/server/start-server.js";
import { FaultyStore } from "../support/faulty-store.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";

const KEY = `package/7876af07-990d-54b4-ab0e-23690620f79a/${"b".repeat(40)}`;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A keep-alive GET: what arrived, and whether the response ended complete or was cut. */
function fetchKeepAlive(url: string, agent: Agent): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
      res.on("aborted", () => resolve({ status: res.statusCode ?? 0, bytes, complete: false }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, bytes, complete: false }));
    }).on("error", reject);
  });
}

describe.each(["directory", "s3"] as const)("a short store body over the %s store", (kind: StoreKind) => {
  it("cuts the keep-alive connection instead of leaving the client waiting; the next request is whole", async () => {
    const t = tempDir("pkgpub-short-");
    cleanups.push(t.cleanup);
    const { store } = await openTestStores(kind, t.dir, inject("s3Env"));
    const bytes = randomBytes(300 * 1024);
    await store.put(KEY, bytes);
    // The first GET's read is cut in half (no memory cache: every GET reads the store).
    const dry = new FaultyStore(store);
    const probe = await startServer({ store: dry, port: 0, log: { write: () => true } as unknown as NodeJS.WritableStream, memoryCacheBytes: 0 });
    await fetchKeepAlive(`${probe.url}/${KEY}`, new Agent({ keepAlive: false }));
    await probe.close();
    const k = dry.ops.indexOf(`get ${KEY}`) + 1;
    expect(k).toBeGreaterThan(0);

    const server: RunningServer = await startServer({
      store: new FaultyStore(store, { k, mode: "truncate" }),
      port: 0,
      log: { write: () => true } as unknown as NodeJS.WritableStream,
      memoryCacheBytes: 0,
    });
    cleanups.push(() => server.close());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    // Far below the server's 30 s keep-alive: a connection merely left open is still waiting.
    const cut = await Promise.race([
      fetchKeepAlive(`${server.url}/${KEY}`, agent),
      new Promise<"still waiting">((r) => setTimeout(() => r("still waiting"), 10_000).unref()),
    ]);
    if (cut === "still waiting") throw new Error("the short response left its connection open: the client is still waiting for the rest");
    expect(cut.status).toBe(200);
    expect(cut.complete).toBe(false);
    expect(cut.bytes).toBeLessThan(bytes.length);
    // The same agent, so a connection left open would carry this request.
    const whole = await fetchKeepAlive(`${server.url}/${KEY}`, agent);
    expect(whole).toEqual({ status: 200, bytes: bytes.length, complete: true });
  }, 60_000);
});
