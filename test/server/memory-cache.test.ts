// Hot tarballs held in memory (memory_cache): what a client sees of it over real HTTP. Holding
// is observed the one way a client can: an immutable object the store has lost is still served,
// byte for byte, only while this process holds it; a replaceable one never outlives its version
// in the store. One process's own memory, so in-process servers only.
import { afterEach, describe, expect, inject, it } from "vitest";
import { randomBytes } from "node:crypto";
import { startServer, type RunningServer } from "../../src/server/start-server.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { FaultyStore } from "../support/faulty-store.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { raw } from "./http-client.js";

const UUID = "7876af07-990d-54b4-ab0e-23690620f79a";
const MiB = 1024 * 1024;
const keyOf = (c: string) => `package/${UUID}/${c.repeat(40)}`;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(kind: StoreKind, memoryCacheBytes: number, wrap?: (s: Store) => Store): Promise<{ server: RunningServer; store: Store }> {
  const t = tempDir("pkgpub-memcache-");
  cleanups.push(t.cleanup);
  const { store } = await openTestStores(kind, t.dir, inject("s3Env"));
  const server = await startServer({ store: wrap ? wrap(store) : store, port: 0, log: { write: () => true } as unknown as NodeJS.WritableStream, memoryCacheBytes });
  cleanups.push(() => server.close());
  return { server, store };
}

describe.each(["directory", "s3"] as const)("memory_cache over the %s store", (kind) => {
  it("holds a 3 MiB tarball after its first GET: the same bytes, ETag, ranges, HEAD and 304 once the store lost it", async () => {
    const { server, store } = await serve(kind, 8 * MiB);
    const bytes = randomBytes(3 * MiB);
    await store.put(keyOf("a"), bytes);
    const path = `/${keyOf("a")}`;
    // Several first requests at once: each gets the whole object.
    const first = await Promise.all(Array.from({ length: 4 }, () => raw(server.url, path)));
    for (const r of first) {
      expect(r.status).toBe(200);
      expect(r.body.equals(bytes)).toBe(true);
    }
    const etag = first[0]!.headers.etag as string;
    await store.delete(keyOf("a"));

    const again = await raw(server.url, path);
    expect(again.status).toBe(200);
    expect(again.body.equals(bytes)).toBe(true);
    expect(again.headers.etag).toBe(etag);
    expect(again.headers["content-length"]).toBe(String(bytes.length));
    expect(again.headers["cache-control"]).toContain("immutable");
    const range = await raw(server.url, path, { headers: { Range: "bytes=1048576-1048675" } });
    expect(range.status).toBe(206);
    expect(range.body.equals(bytes.subarray(MiB, MiB + 100))).toBe(true);
    const head = await raw(server.url, path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(bytes.length));
    expect((await raw(server.url, path, { headers: { "If-None-Match": etag } })).status).toBe(304);
  });

  it("keeps within memory_cache: the least recently used tarball goes first", async () => {
    const { server, store } = await serve(kind, 8 * MiB);
    const objects = Object.fromEntries(["a", "b", "c"].map((c) => [c, randomBytes(3 * MiB)]));
    for (const [c, b] of Object.entries(objects)) await store.put(keyOf(c), b);
    for (const c of ["a", "b", "a", "c"]) expect((await raw(server.url, `/${keyOf(c)}`)).status).toBe(200);
    for (const c of ["a", "b", "c"]) await store.delete(keyOf(c));
    // 8 MiB hold two of them: "b", used least recently, made room for "c".
    const after = Object.fromEntries(await Promise.all(["a", "b", "c"].map(async (c) => [c, await raw(server.url, `/${keyOf(c)}`)] as const)));
    expect(after.a!.status).toBe(200);
    expect(after.a!.body.equals(objects.a!)).toBe(true);
    expect(after.c!.status).toBe(200);
    expect(after.c!.body.equals(objects.c!)).toBe(true);
    expect(after.b!.status).toBe(404);
  });

  it("holds nothing with memory_cache 0, and nothing larger than 16 MiB", async () => {
    const none = await serve(kind, 0);
    await none.store.put(keyOf("a"), randomBytes(3 * MiB));
    expect((await raw(none.server.url, `/${keyOf("a")}`)).status).toBe(200);
    await none.store.delete(keyOf("a"));
    expect((await raw(none.server.url, `/${keyOf("a")}`)).status).toBe(404);

    const big = await serve(kind, 64 * MiB);
    await big.store.put(keyOf("b"), randomBytes(16 * MiB + 1));
    expect((await raw(big.server.url, `/${keyOf("b")}`)).status).toBe(200);
    await big.store.delete(keyOf("b"));
    expect((await raw(big.server.url, `/${keyOf("b")}`)).status).toBe(404);
  });

  it("a replaceable object (a Hex index or tarball) is served as the store has it now: replaced and deleted at once", async () => {
    const { server, store } = await serve(kind, 8 * MiB);
    const key = "repos/acme/tarballs/foo-1.0.0.tar";
    const first = randomBytes(200 * 1024);
    await store.put(key, first);
    for (let i = 0; i < 3; i++) expect((await raw(server.url, `/${key}`)).body.equals(first)).toBe(true);
    const second = randomBytes(200 * 1024);
    await store.put(key, second);
    const after = await raw(server.url, `/${key}`);
    expect(after.status).toBe(200);
    expect(after.body.equals(second)).toBe(true);
    expect(after.headers["cache-control"]).toBe("no-cache");
    const etag = after.headers.etag as string;
    expect((await raw(server.url, `/${key}`, { headers: { "If-None-Match": etag } })).status).toBe(304);
    await store.delete(key);
    expect((await raw(server.url, `/${key}`)).status).toBe(404);
  });

  it("a body the store cut short is not held: the next client gets the whole tarball", async () => {
    const bytes = randomBytes(3 * MiB);
    // Which store operation the first GET's read is (the server may look at the store first).
    const dry = await serve(kind, 8 * MiB, (s) => new FaultyStore(s));
    await dry.store.put(keyOf("a"), bytes);
    await raw(dry.server.url, `/${keyOf("a")}`);
    const k = (dry.server.store as FaultyStore).ops.indexOf(`get ${keyOf("a")}`) + 1;
    expect(k).toBeGreaterThan(0);

    const { server, store } = await serve(kind, 8 * MiB, (s) => new FaultyStore(s, { k, mode: "truncate" }));
    await store.put(keyOf("a"), bytes);
    const cut = await raw(server.url, `/${keyOf("a")}`).catch((err: Error) => err);
    expect(cut instanceof Error || !cut.body.equals(bytes)).toBe(true);
    const whole = await raw(server.url, `/${keyOf("a")}`);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(bytes)).toBe(true);
    // And that whole read is the one held.
    await store.delete(keyOf("a"));
    const held = await raw(server.url, `/${keyOf("a")}`);
    expect(held.status).toBe(200);
    expect(held.body.equals(bytes)).toBe(true);
  });
});
