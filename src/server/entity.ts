import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline, Readable, Transform } from "node:stream";
import type { ByteRange } from "../store/store.js";
import { ifNoneMatchMatches, ifRangeAllows, resolveRange } from "./http-conditions.js";

/** One representation the server can send: its metadata, and a way to open (part of) its bytes. */
export interface Entity {
  size: number;
  /** Strong, quoted. */
  etag: string;
  contentType: string;
  cacheControl: string;
  /** Extra response headers (X-Cache and the like). */
  headers?: Record<string, string>;
  /** Opens the bytes of exactly this version (throws EntityChangedError if it is gone or replaced). */
  open(range?: ByteRange): Promise<Readable>;
  /** A body streamed as it arrives (an upstream miss): no ranges, no Content-Length if size < 0. */
  streamOnly?: boolean;
  /** The whole body, when it is in memory: sent with one write, no stream. */
  bytes?: Buffer;
  /** Releases an already-open body when the response ends up not needing it. */
  discard?(): void;
}

/** The object changed between reading its metadata and opening it; the caller retries once. */
export class EntityChangedError extends Error {
  override name = "EntityChangedError";
}

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";

export interface SendOutcome {
  status: number;
  /** Body bytes the response declared (0 for HEAD and 304). */
  bodyBytes: number;
  /** Resolves when the body has been written out (or the client went away). */
  done: Promise<void>;
}

/**
 * Answers GET/HEAD for an entity: If-None-Match (304), a single Range (206/416), then streams
 * the body with backpressure. The body is opened before the status line is written, so a store
 * failure can still become a 500; once streaming, a failure or a vanished client destroys both
 * ends and nothing leaks.
 */
export async function sendEntity(req: IncomingMessage, res: ServerResponse, entity: Entity): Promise<SendOutcome> {
  const base: Record<string, string> = {
    ETag: entity.etag,
    "Cache-Control": entity.cacheControl,
    ...entity.headers,
  };
  if (req.method !== "GET") entity.discard?.();
  if (ifNoneMatchMatches(header(req, "if-none-match"), entity.etag)) {
    entity.discard?.();
    res.writeHead(304, base);
    res.end();
    return { status: 304, bodyBytes: 0, done: Promise.resolve() };
  }
  const outcome = !entity.streamOnly && ifRangeAllows(header(req, "if-range"), entity.etag)
    ? resolveRange(header(req, "range"), entity.size)
    : ({ kind: "full" } as const);
  if (outcome.kind === "unsatisfiable") {
    entity.discard?.();
    res.writeHead(416, {
      ...base,
      "Content-Range": `bytes */${entity.size}`,
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": "0",
      "Accept-Ranges": "bytes",
    });
    res.end();
    return { status: 416, bodyBytes: 0, done: Promise.resolve() };
  }
  const range = outcome.kind === "partial" ? outcome.range : undefined;
  const status = range ? 206 : 200;
  const length = range ? range.end - range.start + 1 : entity.size;
  const headers: Record<string, string> = {
    ...base,
    "Content-Type": entity.contentType,
    "Accept-Ranges": entity.streamOnly ? "none" : "bytes",
  };
  if (length >= 0) headers["Content-Length"] = String(length);
  if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${entity.size}`;
  if (req.method === "HEAD") {
    res.writeHead(status, headers);
    res.end();
    return { status, bodyBytes: 0, done: Promise.resolve() };
  }
  if (entity.bytes) {
    res.writeHead(status, headers);
    const done = new Promise<void>((resolve) => {
      res.end(range ? entity.bytes!.subarray(range.start, range.end + 1) : entity.bytes, () => resolve());
      res.once("close", () => resolve());
    });
    return { status, bodyBytes: length, done };
  }
  const body = await entity.open(range);
  res.writeHead(status, headers);
  // A client that goes away, or a store that fails mid-body: pipeline destroys both streams;
  // the request log line records the short response.
  const done = new Promise<void>((resolve) =>
    length >= 0 ? pipeline(body, exactly(length), res, () => resolve()) : pipeline(body, res, () => resolve()),
  );
  return { status, bodyBytes: Math.max(length, 0), done };
}

/**
 * Passes a body through and fails it if it ends short of (or runs past) the declared length: a
 * store read cut off yet ended cleanly. The failure closes the connection; a response merely
 * ended short would leave a keep-alive client waiting for bytes until the idle timeout.
 */
function exactly(length: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > length ? new Error(`body runs past its ${length} bytes`) : null, chunk);
    },
    flush(done) {
      done(seen === length ? null : new Error(`body ended after ${seen} of ${length} bytes`));
    },
  });
}

/** An entity held in memory (merged /registries, pages, metrics). */
export function bufferEntity(
  bytes: Uint8Array | string,
  contentType: string,
  cacheControl: string,
  headers?: Record<string, string>,
  etag?: string,
): Entity {
  const buf = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return {
    size: buf.length,
    bytes: buf,
    etag: etag ?? contentEtag(buf),
    contentType,
    cacheControl,
    headers,
    async open(range) {
      return Readable.from(range ? [buf.subarray(range.start, range.end + 1)] : [buf], { objectMode: false });
    },
  };
}

export function contentEtag(bytes: Uint8Array): string {
  return `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 32)}"`;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}
