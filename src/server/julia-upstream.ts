import type { IncomingMessage } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { finished } from "node:stream/promises";
import type { Logger } from "pino";
import { treeHashOfTar } from "../julia/tar-tree-hash.js";
import { PACKAGE_RULES, REGISTRY_RULES } from "../julia/tree-model.js";
import type { Store } from "../store/store.js";
import type { RequestState, ResourceSource } from "./app.js";
import type { DiskCache } from "./disk-cache.js";
import { bufferEntity, IMMUTABLE, REVALIDATE, type Entity } from "./entity.js";
import { fanOut, type Sink } from "./fan-out.js";
import { HttpError } from "./http-error.js";
import type { Metrics } from "./metrics.js";
import { storeKey, type Resource } from "./resource-path.js";
import { storeEntity, type EntityLook } from "./store-entity.js";
import { tailFile, type GrowingFile } from "./tail-stream.js";
import { immutableEntity, type MemoryCache } from "./memory-cache.js";
import { readUpstreamBody, type Upstream } from "./upstream.js";
import { ExpiringKeys } from "./expiring-keys.js";
import { listingKey } from "./registry-flavors.js";

const REGISTRY_LINE = /^\/registry\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([0-9a-f]{40})$/;
const NEGATIVE_TTL_MS = 30_000;
/** Remembered 404s at most (about 100 bytes each). */
const NEGATIVE_MAX_KEYS = 10_000;
const MAX_REGISTRIES_BYTES = 1 << 20;
/**
 * The most a single miss may download (the largest Julia artifacts are a few GB). A body without
 * Content-Length is also no longer written to the cache past cache.max_size, and a download
 * nobody reads and that cannot be cached is stopped.
 */
export const MAX_MISS_BYTES = 8 * 1024 ** 3;
/** A streamed miss is not verified yet: no cache in front may keep it. */
const UNVERIFIED = "no-store";

type FetchOutcome = "cached" | "absent" | "unverified" | "failed";

interface Download {
  outcome: Promise<FetchOutcome>;
  /** Resolves once the upstream answered 200 and the body is being written (null otherwise). */
  streaming: Promise<{ growing: GrowingFile; length: number } | null>;
}

/**
 * Julia fallthrough to an upstream Pkg server: /registries merged with the upstream's list, and
 * misses on registry/package/artifact fetched from it, streamed to the client and kept in the
 * cache only when their tree hash is the one in the URL.
 */
export class JuliaUpstream {
  /** Per upstream path ("registries", "registries.eager", ...): its last lines and a running refresh. */
  private readonly registriesCache = new Map<string, { lines: string[]; at: number }>();
  private readonly registriesFetch = new Map<string, Promise<string[] | null>>();
  private readonly inflight = new Map<string, Download>();
  private readonly absent = new ExpiringKeys(NEGATIVE_TTL_MS, NEGATIVE_MAX_KEYS);

  constructor(
    private readonly upstream: Upstream,
    private readonly cache: DiskCache,
    private readonly store: Store,
    private readonly registriesTtlMs: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly memory: MemoryCache,
  ) {}

  /**
   * Serves /registries and its flavours (before the store), merged per flavour: the store's
   * listing of that flavour with the upstream's (its flavourless /registries if it has none).
   */
  readonly registries: ResourceSource = {
    kinds: new Set(["registries"]),
    entity: async (resource, _req, state) => {
      if (resource.kind !== "registries") return null;
      const own = await this.storeRegistries(await listingKey(this.store, resource.flavor));
      const upstream = await this.upstreamRegistries(resource.flavor ? `registries.${resource.flavor}` : "registries");
      state.source = upstream ? "merged" : "store-only";
      const merged = mergeRegistries(own, upstream ?? []);
      return bufferEntity(merged.map((l) => `${l}\n`).join(""), "text/plain; charset=utf-8", REVALIDATE);
    },
  };

  /** Serves registry/package/artifact misses (after the store). */
  readonly misses: ResourceSource = {
    kinds: new Set(["registry", "package", "artifact"]),
    entity: async (resource, req, state) => this.miss(resource, req, state),
  };

  private async storeRegistries(key: string): Promise<string[]> {
    const obj = await this.store.get(key);
    if (!obj) return [];
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of obj.body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_REGISTRIES_BYTES) {
        obj.body.destroy();
        throw new Error("the store's registries object is larger than 1 MiB");
      }
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString("utf8").split("\n").filter((l) => l !== "");
  }

  /**
   * The upstream's lines, reused for the TTL. After it, the last list is still answered at once
   * while a refresh runs in the background: every Pkg operation asks for /registries, and a
   * slow or dead upstream must not hold them up. Only a first fetch is waited for; null if the
   * upstream never answered.
   */
  private async upstreamRegistries(listing: string): Promise<string[] | null> {
    const cached = this.registriesCache.get(listing);
    if (cached && Date.now() - cached.at < this.registriesTtlMs) return cached.lines;
    const refresh = this.refreshRegistries(listing);
    return cached ? cached.lines : refresh;
  }

  private refreshRegistries(listing: string): Promise<string[] | null> {
    let running = this.registriesFetch.get(listing);
    if (running) return running;
    running = (async () => {
      try {
        let res = await this.upstream.get(listing);
        if (res.status === 404 && listing !== "registries") {
          // A flavourless upstream (LocalPackageServer, a plain bucket): one listing for all.
          res.body?.destroy();
          res = await this.upstream.get("registries");
        }
        if (res.status !== 200 || !res.body) {
          res.body?.destroy();
          throw new HttpError(502, `upstream /${listing} answered ${res.status}`);
        }
        const text = (await readUpstreamBody(res.body, MAX_REGISTRIES_BYTES)).toString("utf8");
        // Only well-formed lines from the upstream: it is not trusted to name anything else.
        const lines = text.split("\n").map((l) => l.trim()).filter((l) => REGISTRY_LINE.test(l));
        this.registriesCache.set(listing, { lines, at: Date.now() });
        return lines;
      } catch (err) {
        this.log.warn({ upstream: this.upstream.origin, err: (err as Error).message }, `upstream /${listing} unavailable; serving the last known list`);
        return this.registriesCache.get(listing)?.lines ?? null;
      } finally {
        this.registriesFetch.delete(listing);
      }
    })();
    this.registriesFetch.set(listing, running);
    return running;
  }

  private async miss(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    if (resource.kind !== "registry" && resource.kind !== "package" && resource.kind !== "artifact") return null;
    const key = storeKey(resource)!;
    const look = { contentType: "application/x-gzip", cacheControl: IMMUTABLE, headers: { "X-Cache": "hit" } };
    const hit = this.cache.has(key) ? await immutableEntity(this.memory, this.cache.reader, "cache", key, req, look) : null;
    if (hit) {
      this.cache.touch(key);
      this.metrics.cacheResult("julia", "hit");
      state.source = "cache";
      return hit;
    }
    if (this.absent.has(key)) return null;
    if (req.method === "HEAD") return this.head(key, state);

    const pending = this.inflight.get(key);
    if (pending) return this.follow(key, pending, req, state, look);
    this.metrics.cacheResult("julia", "miss");
    state.source = "miss";
    // Registered before the first await, so that every concurrent miss finds it.
    let resolveOutcome!: (o: FetchOutcome) => void;
    let resolveStreaming!: (s: { growing: GrowingFile; length: number } | null) => void;
    const download: Download = {
      outcome: new Promise<FetchOutcome>((r) => (resolveOutcome = r)),
      streaming: new Promise((r) => (resolveStreaming = r)),
    };
    this.inflight.set(key, download);
    download.outcome.finally(() => this.inflight.delete(key));
    const fail = (o: FetchOutcome) => {
      resolveStreaming(null);
      resolveOutcome(o);
    };
    let res;
    try {
      res = await this.upstream.get(key);
    } catch (err) {
      fail("failed");
      throw err;
    }
    if (res.status === 404 || res.status === 410) {
      res.body?.destroy();
      this.absent.add(key);
      fail("absent");
      return null;
    }
    if (res.status !== 200 || !res.body) {
      res.body?.destroy();
      fail("failed");
      throw new HttpError(502, `upstream ${this.upstream.origin} answered ${res.status} for /${key}`);
    }
    const body = res.body;
    const length = Number(res.headers["content-length"]);
    if (Number.isSafeInteger(length) && length > MAX_MISS_BYTES) {
      body.destroy();
      fail("failed");
      throw new HttpError(502, `upstream ${this.upstream.origin} sent ${length} bytes for /${key}, more than the ${MAX_MISS_BYTES} a miss may be`);
    }
    // A tarball route answered with something else (an HTML page, plain text): fail at once
    // rather than stream it and wait for the upstream to finish a body nobody can use.
    const first = await firstChunk(body).catch(() => null);
    if (!first || first[0] !== 0x1f || (first.length > 1 && first[1] !== 0x8b)) {
      body.destroy();
      fail("failed");
      throw new HttpError(502, `upstream ${this.upstream.origin} sent ${first ? "a body that is not gzip" : "an empty or cut body"} for /${key}`);
    }
    const client = new PassThrough();
    this.fill(key, resource, body, client, Number.isSafeInteger(length) ? length : undefined, (growing) =>
      resolveStreaming(growing ? { growing, length: Number.isSafeInteger(length) ? length : -1 } : null),
    ).then(
      (o) => resolveOutcome(o),
      () => resolveOutcome("unverified"),
    );
    return missEntity(Number.isSafeInteger(length) ? length : -1, client);
  }

  /**
   * A concurrent miss of a resource already being fetched: it reads the download's temp file as
   * it grows (one upstream request for all), or, once that is over, the cache.
   */
  private async follow(key: string, download: Download, req: IncomingMessage, state: RequestState, look: EntityLook): Promise<Entity | null> {
    state.source = "shared-miss";
    const streaming = await download.streaming;
    // Join a download only while it is arriving; a finished one is being verified, and the
    // cache (or a fresh fetch) is the answer then.
    if (streaming && streaming.growing.active()) {
      let body: Readable | null = null;
      try {
        body = await tailFile(streaming.growing);
      } catch {
        // The download already finished and its temp file moved on: use the outcome below.
      }
      if (body) {
        return missEntity(streaming.length, body);
      }
    }
    const outcome = await download.outcome;
    if (outcome === "absent") return null;
    if (outcome === "failed") throw new HttpError(502, `upstream ${this.upstream.origin} could not provide /${key}`);
    const e = await storeEntity(this.cache.reader, key, req, look);
    if (!e) throw new HttpError(502, `upstream ${this.upstream.origin} sent /${key} but it did not verify; not served from cache`);
    return e;
  }

  /** Downloads into a temp file and the client at once; commits to the cache only if verified. */
  private async fill(
    key: string,
    resource: Resource,
    body: Readable,
    client: PassThrough,
    length: number | undefined,
    started: (growing: GrowingFile | null) => void,
  ): Promise<FetchOutcome> {
    const expected = resource.kind === "artifact" || resource.kind === "package" || resource.kind === "registry" ? resource.hash : "";
    const rules = resource.kind === "registry" ? REGISTRY_RULES : PACKAGE_RULES;
    const cacheable = length === undefined || length <= this.cache.maxBytes;
    const temp = cacheable ? this.cache.temp() : null;
    const gunzip = createGunzip();
    // The tar reader stops at the end-of-archive blocks; the gzip stream must still end cleanly,
    // or a download cut inside the gzip trailer would verify and be cached.
    const hashing = treeHashOfTar(gunzip.iterator({ destroyOnReturn: false }), rules)
      .then(async (hash) => {
        gunzip.resume();
        await finished(gunzip);
        return hash;
      })
      .finally(() => gunzip.destroy());
    hashing.catch(() => undefined);
    const sinks: Sink[] = [{ stream: client, optional: true }, { stream: gunzip, optional: true }];
    if (temp) sinks.push({ stream: temp.stream, optional: true });
    let fileDone!: (complete: boolean) => void;
    if (temp) {
      const stream = temp.stream;
      let flowing = true;
      body.once("close", () => (flowing = false));
      body.once("end", () => (flowing = false));
      started({ file: temp.file, written: () => stream.bytesWritten, active: () => flowing, done: new Promise<boolean>((r) => (fileDone = r)) });
      stream.once("error", () => fileDone(false));
    } else {
      started(null);
    }
    // Bounds: a body without Content-Length stops being cached past the cache's size, no miss
    // grows past MAX_MISS_BYTES, and once the client left a download that cannot be cached
    // (nobody can follow it then either) is stopped.
    let caching = temp !== null;
    let clientGone = false;
    let received = 0;
    const stopIfUnread = () => {
      if (clientGone && !caching && !body.readableEnded) body.destroy(new Error("the client left and the download cannot be cached"));
    };
    const stopCaching = () => {
      if (!caching || !temp) return;
      caching = false;
      temp.stream.destroy();
      void this.cache.discard(temp.file);
      gunzip.destroy();
      fileDone(false);
      stopIfUnread();
    };
    client.once("close", () => {
      if (client.writableFinished && client.readableEnded) return;
      clientGone = true;
      stopIfUnread();
    });
    body.on("data", (c: Buffer) => {
      received += c.length;
      if (received > MAX_MISS_BYTES) body.destroy(new Error(`upstream body larger than ${MAX_MISS_BYTES} bytes`));
      else if (caching && received > this.cache.maxBytes) stopCaching();
    });
    const downloaded = fanOut(body, sinks).then(
      async () => {
        if (temp) await finished(temp.stream).then(() => fileDone(length === undefined || temp.stream.bytesWritten === length), () => fileDone(false));
      },
      (err: unknown) => {
        if (temp) fileDone(false);
        throw err;
      },
    );
    body.resume();
    try {
      await downloaded;
    } catch (err) {
      client.destroy(err as Error);
      temp?.stream.destroy();
      if (temp) await this.cache.discard(temp.file);
      this.log.warn({ upstream: this.upstream.origin, key, err: (err as Error).message }, "upstream download failed");
      return "unverified";
    }
    if (temp && !caching) {
      await this.cache.discard(temp.file);
      this.log.info({ upstream: this.upstream.origin, key, bytes: received }, "upstream download larger than the cache; served, not cached");
      return "unverified";
    }
    let verdict: string;
    try {
      const actual = await hashing;
      verdict = actual === expected ? "ok" : `tree hash is ${actual}`;
    } catch (err) {
      verdict = `not a valid tarball: ${(err as Error).message}`;
    }
    if (temp) {
      try {
        await finished(temp.stream);
      } catch (err) {
        verdict = `cache write failed: ${(err as Error).message}`;
      }
    }
    if (verdict !== "ok" || !temp) {
      if (temp) await this.cache.discard(temp.file);
      if (verdict !== "ok") {
        this.metrics.cacheResult("julia", "rejected");
        this.log.warn({ upstream: this.upstream.origin, key, reason: verdict }, "upstream content failed verification; not cached");
      }
      return "unverified";
    }
    await this.cache.commit(key, temp.file);
    return "cached";
  }

  private async head(key: string, state: RequestState): Promise<Entity | null> {
    state.source = "upstream-head";
    const res = await this.upstream.get(key, {}, "HEAD");
    if (res.status === 404 || res.status === 410) return null;
    if (res.status !== 200) throw new HttpError(502, `upstream ${this.upstream.origin} answered ${res.status} for HEAD /${key}`);
    const length = Number(res.headers["content-length"]);
    return missEntity(Number.isSafeInteger(length) ? length : -1, null);
  }
}

/** One line per registry uuid, the store's own line winning; sorted by uuid as Pkg servers do. */
export function mergeRegistries(own: string[], upstream: string[]): string[] {
  const byUuid = new Map<string, string>();
  for (const line of upstream) {
    const m = REGISTRY_LINE.exec(line);
    if (m) byUuid.set(m[1]!, line);
  }
  for (const line of own) {
    const m = REGISTRY_LINE.exec(line);
    if (m) byUuid.set(m[1]!, line);
  }
  return [...byUuid.keys()].sort().map((k) => byUuid.get(k)!);
}

/** A body still arriving from the upstream (none for a HEAD): streamed once, never cached by ETag. */
function missEntity(size: number, body: Readable | null): Entity {
  return {
    size,
    // Unique per download: it is only ever equal to itself.
    etag: `"miss-${process.hrtime.bigint().toString(36)}"`,
    contentType: "application/x-gzip",
    cacheControl: UNVERIFIED,
    headers: { "X-Cache": "miss" },
    streamOnly: true,
    async open() {
      if (!body) throw new Error("HEAD has no body");
      return body;
    },
    discard() {
      body?.destroy();
    },
  };
}

/**
 * The body's first chunk, put back so that the copy still starts at byte 0; the stream is left
 * paused (whoever reads it next resumes it). Null for a body that ends empty.
 */
function firstChunk(body: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      cleanup();
      body.pause();
      body.unshift(c);
      resolve(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
      body.off("close", onEnd);
    };
    body.on("data", onData);
    body.once("end", onEnd);
    body.once("error", onError);
    body.once("close", onEnd);
  });
}
