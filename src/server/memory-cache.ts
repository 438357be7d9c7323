import type { IncomingMessage } from "node:http";
import type { Store } from "../store/store.js";
import { bufferEntity, type Entity } from "./entity.js";
import { storeEntity, type EntityLook } from "./store-entity.js";

/**
 * Small content-addressed objects kept in memory, least recently used out first. Only for
 * immutable keys: their bytes never change (DESIGN invariant 1), so a copy never goes stale.
 * It saves a file open or an S3 round trip on the hottest path (package tarballs).
 */
export class MemoryCache {
  private readonly entries = new Map<string, { bytes: Buffer; etag: string }>();
  private total = 0;

  constructor(
    readonly maxBytes = 64 * 1024 * 1024,
    readonly maxObjectBytes = 1024 * 1024,
  ) {}

  get(key: string): { bytes: Buffer; etag: string } | undefined {
    const e = this.entries.get(key);
    if (e) {
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return e;
  }

  set(key: string, bytes: Buffer, etag: string): void {
    if (bytes.length > this.maxObjectBytes || bytes.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.total -= old.bytes.length;
      this.entries.delete(key);
    }
    this.entries.set(key, { bytes, etag });
    this.total += bytes.length;
    for (const [k, v] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= v.bytes.length;
    }
  }
}

/**
 * The entity for an immutable key: from memory when held there, else from the store; a small
 * object read whole by a plain GET is kept for next time.
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
  const plainGet = req.method === "GET" && req.headers.range === undefined && (req.headers["if-none-match"] ?? "").trim() === "";
  if (!e || !plainGet || e.size > mem.maxObjectBytes) return e;
  const body = await e.open();
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  if (bytes.length === e.size) mem.set(memKey, bytes, e.etag);
  return bufferEntity(bytes, look.contentType, look.cacheControl, look.headers, e.etag);
}
