import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline, Transform, type Readable } from "node:stream";

/** The size of a regular file to upload; anything else is an error naming the file. */
export async function regularFileSize(file: string): Promise<number> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "error";
    throw new Error(`cannot upload ${file}: ${code === "ENOENT" ? "no such file" : code}`);
  }
  if (!st.isFile()) throw new Error(`cannot upload ${file}: not a regular file`);
  return st.size;
}

/**
 * `length` bytes of a file from `start`, as a stream that fails when the file yields fewer
 * (it shrank after it was measured): the request that carries it declared a Content-Length
 * and would otherwise wait for bytes that never come.
 */
export function fileSlice(file: string, start: number, length: number): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen === length ? null : new Error(`${file} changed during upload: expected ${length} bytes from offset ${start}, read ${seen}`));
    },
  });
  if (length === 0) {
    guard.end();
    return guard;
  }
  const source = createReadStream(file, { start, end: start + length - 1, highWaterMark: 256 * 1024 });
  pipeline(source, guard, () => undefined);
  return guard;
}
