import type { IncomingMessage } from "node:http";
import type { Store } from "../store/store.js";
import { EntityChangedError, header, type Entity } from "./entity.js";

export interface EntityLook {
  contentType: string;
  cacheControl: string;
  headers?: Record<string, string>;
}

/**
 * The entity for a store key, or null when the store does not hold it. A plain GET opens the
 * body in the same call (one store round trip); a HEAD or a conditional/ranged GET looks at the
 * metadata first and opens only the bytes it will send, checking they are the same version.
 */
export async function storeEntity(store: Store, key: string, req: IncomingMessage, look: EntityLook): Promise<Entity | null> {
  if (isPlainGet(req)) {
    const obj = await store.get(key);
    if (!obj) return null;
    let opened = false;
    return {
      size: obj.size,
      etag: obj.etag,
      ...look,
      async open() {
        opened = true;
        return obj.body;
      },
      discard() {
        if (!opened) obj.body.destroy();
      },
    };
  }
  const info = await store.head(key);
  if (!info) return null;
  return {
    size: info.size,
    etag: info.etag,
    ...look,
    async open(range) {
      const obj = await store.get(key, range ? { range } : {});
      if (!obj) throw new EntityChangedError(`${key} disappeared while being served`);
      if (obj.etag !== info.etag) {
        obj.body.destroy();
        throw new EntityChangedError(`${key} was replaced while being served`);
      }
      return obj.body;
    },
  };
}

/** A GET of the whole current object: no range, no validator (what may open the body at once). */
export function isPlainGet(req: IncomingMessage): boolean {
  return req.method === "GET" && header(req, "range") === undefined && (header(req, "if-none-match") ?? "").trim() === "";
}
