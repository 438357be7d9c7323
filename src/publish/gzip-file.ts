import { createReadStream, createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

/** Gzips a chunk stream into a file (level 6, as `gzip` does by default); returns bytes written. */
export async function gzipToFile(chunks: AsyncIterable<Uint8Array>, file: string): Promise<number> {
  const out = createWriteStream(file, { flags: "wx" });
  await pipeline(Readable.from(chunks), createGzip({ level: 6 }), out);
  return out.bytesWritten;
}

/** The uncompressed bytes of a gzip file, streamed. */
export function gunzipFile(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file).pipe(createGunzip());
}
