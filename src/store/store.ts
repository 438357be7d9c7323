import type { Readable } from "node:stream";

/**
 * The bucket. Keys are the URL paths of DESIGN.md's object layout ("package/<uuid>/<hash>",
 * "repos/acme/names", ...): relative, "/"-separated, never "..".
 */
export interface Store {
  /** Where the store is, for messages; never contains credentials. */
  readonly description: string;
  head(key: string): Promise<ObjectInfo | null>;
  /** null when absent. With a range, body holds only those bytes and info.size is the whole size. */
  get(key: string, options?: GetOptions): Promise<StoredObject | null>;
  /**
   * Writes the whole object atomically: readers see the old bytes or the new, never a mix.
   * ifNoneMatch "*" makes it create-only and ifMatch makes it replace only that version; a
   * failed condition throws PreconditionFailedError. A store that cannot check a condition
   * throws ConditionalWriteUnsupportedError before writing anything.
   */
  put(key: string, source: PutSource, options?: PutOptions): Promise<PutResult>;
  delete(key: string): Promise<void>;
  /** Every key under the prefix, in byte order of the key. */
  list(prefix: string): AsyncIterable<ObjectListing>;
}

export interface ObjectInfo {
  size: number;
  /** A strong entity tag, quoted as in HTTP: it changes whenever the bytes change. */
  etag: string;
  contentType?: string;
}

export interface StoredObject extends ObjectInfo {
  body: Readable;
}

export interface ObjectListing {
  key: string;
  size: number;
  etag: string;
  /** When the object was written, where the store knows it (shown on the browse pages). */
  modified?: Date;
}

/** Inclusive byte offsets, as in an HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface GetOptions {
  range?: ByteRange;
}

/** Bytes in memory (small index objects) or a local file streamed to the store (tarballs). */
export type PutSource = Uint8Array | string | { path: string };

export interface PutOptions {
  contentType?: string;
  ifNoneMatch?: "*";
  ifMatch?: string;
}

export interface PutResult {
  etag: string;
}

export class PreconditionFailedError extends Error {
  constructor(readonly key: string, detail: string) {
    super(`${key}: ${detail}`);
    this.name = "PreconditionFailedError";
  }
}

export class ConditionalWriteUnsupportedError extends Error {
  constructor(readonly key: string, readonly store: string) {
    super(`${store} does not support conditional writes (writing ${key})`);
    this.name = "ConditionalWriteUnsupportedError";
  }
}

export class InvalidKeyError extends Error {
  constructor(readonly key: string) {
    super(`invalid object key ${JSON.stringify(key)}`);
    this.name = "InvalidKeyError";
  }
}

const KEY_SEGMENT = /^[A-Za-z0-9._@+-]+$/;

/** Rejects keys that could name something outside the store ("..", absolute, empty segments). */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new InvalidKeyError(key);
  for (const segment of key.split("/")) {
    if (!KEY_SEGMENT.test(segment) || segment === "." || segment === "..") throw new InvalidKeyError(key);
  }
}

/** Rejects a range that is not two offsets with start <= end (HTTP would ignore such a Range). */
export function assertValidRange(key: string, range: ByteRange): void {
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end)) {
    throw new RangeError(`${key}: invalid byte range ${start}-${end}`);
  }
}
