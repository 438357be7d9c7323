import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { redactSecrets } from "../git/redact.js";
import { fetchWithAuth, type HttpAuth } from "../net/http-auth.js";

export interface DownloadOptions {
  fetch?: typeof fetch;
  maxBytes: number;
  timeoutMs: number;
  /** Per-host credentials (private artifact servers); each redirect hop gets its own host's. */
  auth?: HttpAuth;
}

/** Streams a URL into a file, returning its sha256; refuses non-HTTP(S) URLs and oversized bodies. */
export async function downloadToFile(url: string, file: string, options: DownloadOptions): Promise<{ sha256: string; bytes: number }> {
  const shown = redactSecrets(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${shown} is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error(`${shown}: only http and https downloads are supported`);
  const doFetch = options.fetch ?? fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetchWithAuth(url, { signal }, options.auth, doFetch);
  } catch (err) {
    throw new Error(`${shown}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  if (!response.ok || !response.body) throw new Error(`${shown}: HTTP ${response.status}`);
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > options.maxBytes) throw new Error(`${shown}: ${declared} bytes is over the ${options.maxBytes}-byte limit`);
  const hash = createHash("sha256");
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) return done(new Error(`${shown}: more than the ${options.maxBytes}-byte limit`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), meter, createWriteStream(file, { flags: "wx" }));
  return { sha256: hash.digest("hex"), bytes };
}
