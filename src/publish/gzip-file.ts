import { createReadStream, createWriteStream } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

/** gzip's own default: package and artifact tarballs. */
export const DEFAULT_GZIP_LEVEL = 6;
/**
 * The registry tarball is rebuilt on every publish and grows with the registry; Pkg checks its
 * tree hash, never its compressed bytes, so its level is a free trade of publish time against
 * size (figures in bench/julia-registry.bench.ts).
 */
export const REGISTRY_GZIP_LEVEL = 6;

/** Gzips a chunk stream into a file; returns bytes written. */
export async function gzipToFile(chunks: AsyncIterable<Uint8Array>, file: string, level = DEFAULT_GZIP_LEVEL): Promise<number> {
  const out = createWriteStream(file, { flags: "wx" });
  await pipeline(Readable.from(coalesce(chunks)), createGzip({ level, chunkSize: 128 * 1024 }), out);
  return out.bytesWritten;
}

const BATCH = 256 * 1024;

/** Joins small chunks (tar headers, padding, short files) so zlib works on large buffers. */
async function* coalesce(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const c of chunks) {
    if (c.length >= BATCH && size === 0) {
      yield c;
      continue;
    }
    parts.push(c);
    size += c.length;
    if (size >= BATCH) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

/** The uncompressed bytes of a gzip file, streamed. */
export function gunzipFile(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file).pipe(createGunzip());
}

/**
 * gzipToFile, with the compressed bytes also decompressed and handed to `check` as they are
 * written: the tarball is verified from the very bytes that will be uploaded, on a second core,
 * instead of a second pass over the file.
 */
export async function gzipToFileChecked(
  chunks: AsyncIterable<Uint8Array>,
  file: string,
  check: (tar: AsyncIterable<Uint8Array>) => Promise<void>,
  level = DEFAULT_GZIP_LEVEL,
): Promise<number> {
  const out = createWriteStream(file, { flags: "wx" });
  const gunzip = createGunzip();
  const tee = new Writable({
    write(chunk: Buffer, _enc, done) {
      let pending = 2;
      const settle = (err?: Error | null) => {
        if (err) return done(err);
        if (--pending === 0) done();
      };
      if (out.write(chunk)) settle();
      else out.once("drain", () => settle());
      if (gunzip.write(chunk)) settle();
      else gunzip.once("drain", () => settle());
    },
    final(done) {
      gunzip.end();
      out.end(() => done());
    },
  });
  const writing = pipeline(Readable.from(coalesce(chunks)), createGzip({ level, chunkSize: 128 * 1024 }), tee);
  const checking = check(gunzip).catch((err: unknown) => {
    tee.destroy(err as Error);
    throw err;
  });
  const [w] = await Promise.allSettled([writing, checking]);
  await checking; // a failed check is the error that matters
  if (w.status === "rejected") throw w.reason;
  return out.bytesWritten;
}
