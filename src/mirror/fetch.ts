import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fetchWithAuth, type HttpAuth } from "../net/http-auth.js";

/**
 * Every HTTP request the mirror makes goes through here (one place to switch to the shared
 * bounded client): GET only, a timeout over the whole exchange, a byte limit on every body,
 * per-host credentials on each redirect hop, and 404 as "absent" rather than an error.
 */

export interface MirrorFetchOptions {
  timeoutMs: number;
  auth?: HttpAuth;
  fetch?: typeof fetch;
}

export class MirrorFetchError extends Error {
  override name = "MirrorFetchError";
}

/** The URL for messages: without user:password@ (up to the authority's last @) or a query string. */
function shown(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1").replace(/\?[^#]*/, "");
}

async function get(rawUrl: string, options: MirrorFetchOptions, signal: AbortSignal): Promise<Response | null> {
  const url = shown(rawUrl);
  let res: Response;
  try {
    res = await fetchWithAuth(rawUrl, { signal, headers: { "user-agent": "pkgpub-mirror", "accept-encoding": "identity" } }, options.auth, options.fetch);
  } catch (err) {
    const cause = (err as Error).cause;
    throw new MirrorFetchError(`${url}: ${cause instanceof Error ? cause.message : (err as Error).message}`);
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return null;
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new MirrorFetchError(`${url}: HTTP ${res.status}`);
  }
  return res;
}

function meter(url: string, maxBytes: number, hash?: ReturnType<typeof createHash>): { stream: Transform; bytes: () => number } {
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      if (n > maxBytes) return done(new MirrorFetchError(`${url}: more than the ${maxBytes}-byte limit`));
      hash?.update(chunk);
      done(null, chunk);
    },
  });
  return { stream, bytes: () => n };
}

function declaredTooLarge(res: Response, url: string, maxBytes: number): void {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw new MirrorFetchError(`${url}: ${declared} bytes is over the ${maxBytes}-byte limit`);
}

/** A small body (an index, a signed resource) read whole; null when the upstream has none. */
export async function fetchBytes(rawUrl: string, maxBytes: number, options: MirrorFetchOptions): Promise<Buffer | null> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const res = await get(rawUrl, options, signal);
  const url = shown(rawUrl);
  if (!res) return null;
  declaredTooLarge(res, url, maxBytes);
  const chunks: Buffer[] = [];
  const m = meter(url, maxBytes);
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), m.stream, async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) chunks.push(c);
    });
  } catch (err) {
    throw err instanceof MirrorFetchError ? err : new MirrorFetchError(`${url}: cut off after ${m.bytes()} bytes (${(err as Error).message})`);
  }
  return Buffer.concat(chunks);
}

/** A tarball streamed to a new file; null when the upstream has none. */
export async function fetchToFile(rawUrl: string, file: string, maxBytes: number, options: MirrorFetchOptions): Promise<{ bytes: number; sha256: string } | null> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const res = await get(rawUrl, options, signal);
  const url = shown(rawUrl);
  if (!res) return null;
  declaredTooLarge(res, url, maxBytes);
  const hash = createHash("sha256");
  const m = meter(url, maxBytes, hash);
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), m.stream, createWriteStream(file, { flags: "wx" }));
  } catch (err) {
    throw err instanceof MirrorFetchError ? err : new MirrorFetchError(`${url}: cut off after ${m.bytes()} bytes (${(err as Error).message})`);
  }
  return { bytes: m.bytes(), sha256: hash.digest("hex") };
}

/** base + "/" + path, whatever trailing slash the base was given with. */
export function joinUrl(base: string, rel: string): string {
  return `${base.replace(/\/+$/, "")}/${rel}`;
}
