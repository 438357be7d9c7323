import type { IncomingMessage } from "node:http";
import { Transform, type Readable } from "node:stream";
import type { Store } from "../store/store.js";
import { bufferEntity, type Entity } from "./entity.js";
import { isPlainGet, storeEntity, type EntityLook } from "./store-entity.js";

/** Read whole before the first response: one socket write even the first time. */
const READ_WHOLE_BYTES = 1024 * 1024;

/**
 * Content-addressed objects kept in memory, least recently used out first. Only for immutable
 * keys: their bytes never change (DESIGN invariant 1), so a copy never goes stale. A hot tarball
 * is then one socket write from a buffer instead of file reads (or an S3 round trip) per request:
 * Node has no sendfile, and a 5 MB response read from the page cache costs it about twice what
 * the same bytes cost from memory.
 */
export class MemoryCache {
  private readonly entries = new Map<string, { bytes: Buffer; etag: string }>();
  /** Keys some response is reading into memory now: one copy per key in flight, not one per client. */
  private readonly filling = new Set<string>();
  private total = 0;

  constructor(
    readonly maxBytes = 64 * 1024 * 1024,
    readonly maxObjectBytes = 16 * 1024 * 1024,
  ) {}

  get heldBytes(): number {
    return this.total;
  }

  get(key: string): { bytes: Buffer; etag: string } | undefined {
    const e = this.entries.get(key);
    if (e) {
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return e;
  }

  /** Whether an object of this size may be held at all. */
  fits(size: number): boolean {
    return size <= this.maxObjectBytes && size <= this.maxBytes;
  }

  set(key: string, bytes: Buffer, etag: string): void {
    if (!this.fits(bytes.length)) return;
    this.delete(key);
    this.entries.set(key, { bytes, etag });
    this.total += bytes.length;
    for (const [k, v] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= v.bytes.length;
    }
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.total -= old.bytes.length;
    this.entries.delete(key);
  }

  /** Claims the right to fill a key; false when another response is already filling it. */
  claim(key: string): boolean {
    if (this.filling.has(key)) return false;
    this.filling.add(key);
    return true;
  }

  release(key: string): void {
    this.filling.delete(key);
  }
}

/**
 * The entity for an immutable key: from memory when held there, else from the store. A plain
 * GET of an object that fits is kept for next time: a small one is read whole first, a larger
 * one is copied as it streams to its client (S3 keeps streaming, the first byte is not delayed).
 */
export async function immutableEntity(
  mem: MemoryCache,
  store: Store,
  scope: string,
  key: string,
  req: IncomingMessage,
  look: EntityLook,
): Promise<Entity | null> {
  const memKey = `${scope}\u0000${key}`;
  const held = mem.get(memKey);
  if (held) return bufferEntity(held.bytes, look.contentType, look.cacheControl, look.headers, held.etag);
  const e = await storeEntity(store, key, req, look);
  if (!e || !isPlainGet(req) || !mem.fits(e.size)) return e;
  if (e.size <= READ_WHOLE_BYTES) return readWhole(mem, memKey, await e.open(), e.size, e.etag, look);
  if (!mem.claim(memKey)) return e;
  let released = false;
  const release = () => {
    if (!released) mem.release(memKey);
    released = true;
  };
  return {
    ...e,
    async open(range) {
      try {
        return copyInto(await e.open(range), e.size, (bytes) => mem.set(memKey, bytes, e.etag), release);
      } catch (err) {
        release();
        throw err;
      }
    },
    discard() {
      release();
      e.discard?.();
    },
  };
}

/**
 * The entity for a key that can be replaced (Hex indexes and tarballs): a small one is held in
 * memory under the version the store names (its ETag) and served from there while the store
 * still names that version. Each request still asks the store (a stat on a directory, a HEAD
 * on S3), so a replaced or deleted object is seen at once; it only saves reading the bytes.
 */
export async function currentEntity(mem: MemoryCache, store: Store, key: string, req: IncomingMessage, look: EntityLook): Promise<Entity | null> {
  const memKey = `current\u0000${key}`;
  const info = await store.head(key);
  if (!info) return null;
  const held = mem.get(memKey);
  if (held && held.etag === info.etag) return bufferEntity(held.bytes, look.contentType, look.cacheControl, look.headers, held.etag);
  if (held) mem.delete(memKey);
  if (!isPlainGet(req) || info.size > READ_WHOLE_BYTES || !mem.fits(info.size)) return storeEntity(store, key, req, look);
  const obj = await store.get(key);
  if (!obj) return null;
  // Held under the etag of the version opened (a writer may have replaced it since the HEAD).
  return readWhole(mem, memKey, obj.body, obj.size, obj.etag, look);
}

/** A small body read whole, held when it is complete, and sent with one write. */
async function readWhole(mem: MemoryCache, memKey: string, body: Readable, size: number, etag: string, look: EntityLook): Promise<Entity> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  if (bytes.length === size) mem.set(memKey, bytes, etag);
  return bufferEntity(bytes, look.contentType, look.cacheControl, look.headers, etag);
}

/**
 * The body passed through unchanged, its chunks kept; when exactly `size` bytes went through
 * they are handed to `keep` as one buffer. A body that fails or is abandoned keeps nothing.
 */
function copyInto(body: Readable, size: number, keep: (bytes: Buffer) => void, release: () => void): Readable {
  const chunks: Buffer[] = [];
  let seen = 0;
  const copy = new Transform({
    highWaterMark: body.readableHighWaterMark,
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen <= size) chunks.push(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (seen === size) keep(Buffer.concat(chunks, size));
      chunks.length = 0;
      release();
      done();
    },
  });
  copy.once("close", () => {
    chunks.length = 0;
    release();
  });
  body.once("error", (err) => copy.destroy(err));
  copy.once("close", () => {
    if (!body.destroyed) body.destroy();
  });
  return body.pipe(copy);
}
