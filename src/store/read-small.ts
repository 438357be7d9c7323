// Reads a small store object whole, for the pages and checks that need one in memory: an object
// over the caller's bound is left unread (its body closed) rather than buffered.
import type { Store } from "./store.js";

/** The object's bytes and etag; null when it is absent or larger than `max` bytes. */
export async function readSmall(store: Store, key: string, max: number): Promise<{ bytes: Buffer; etag: string } | null> {
  const obj = await store.get(key);
  if (!obj) return null;
  if (obj.size > max) {
    obj.body.destroy();
    return null;
  }
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  return { bytes: Buffer.concat(parts), etag: obj.etag };
}
