import type { Store } from "../store/store.js";

/**
 * What the mirror put in the store and where it came from, kept in the store itself
 * (`mirror/julia.json`, `mirror/hex/<repo>.json`) so the browse page can say it and a later
 * run can tell a mirrored registry line from the store's own. Runs only add to it; it is
 * written after the objects it names, and only when it changes.
 */

export const JULIA_RECORD_KEY = "mirror/julia.json";
export const hexRecordKey = (repo: string) => `mirror/hex/${repo}.json`;

export interface JuliaMirrorRecord {
  packages: Array<{ name: string; uuid: string; version?: string; tree: string; upstream: string }>;
  registries: Array<{ name: string; uuid: string; tree: string; upstream: string }>;
}

export interface HexMirrorRecord {
  repo: string;
  upstream: string;
  packages: Array<{ name: string; version: string }>;
}

const MAX_RECORD_BYTES = 32 * 1024 * 1024;

export async function readRecord<T>(store: Store, key: string): Promise<T | null> {
  const obj = await store.get(key);
  if (!obj) return null;
  if (obj.size > MAX_RECORD_BYTES) {
    obj.body.destroy();
    throw new Error(`${key} in ${store.description}: ${obj.size} bytes is too large for a mirror record`);
  }
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString("utf8")) as T;
  } catch {
    throw new Error(`${key} in ${store.description}: not JSON (the mirror record is damaged; remove it to start it again)`);
  }
}

/** Writes the record if its bytes differ from what is stored; true when written. */
export async function writeRecord(store: Store, key: string, record: unknown): Promise<boolean> {
  const text = `${JSON.stringify(record, null, 1)}\n`;
  const obj = await store.get(key);
  if (obj) {
    const parts: Buffer[] = [];
    for await (const c of obj.body) parts.push(c as Buffer);
    if (Buffer.concat(parts).toString("utf8") === text) return false;
  }
  await store.put(key, text, { contentType: "application/json" });
  return true;
}

/** Items of `a` and `b`, one per key (b's wins), sorted by key. */
export function mergeBy<T>(a: T[], b: T[], key: (x: T) => string): T[] {
  const m = new Map<string, T>();
  for (const x of [...a, ...b]) m.set(key(x), x);
  return [...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, v]) => v);
}
