import { open, type FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";

/** A download being written to a file, as its followers see it. */
export interface GrowingFile {
  file: string;
  /** Bytes written to the file so far. */
  written(): number;
  /** Whether bytes are still arriving (a follower joins only then). */
  active(): boolean;
  /** Resolves when the writer is done: true if the file is complete, false if it failed. */
  done: Promise<boolean>;
}

/** As large as the store's reads (fs-store.ts): fewer reads and socket writes per download. */
const CHUNK = 512 * 1024;
const POLL_MS = 25;

/**
 * Reads a file while another request is still downloading into it, so a second client of the
 * same miss gets bytes at once instead of waiting for the whole download. The file may be
 * renamed into the cache or deleted meanwhile: the open handle keeps reading the same bytes.
 */
export async function tailFile(growing: GrowingFile): Promise<Readable> {
  const handle: FileHandle = await open(growing.file, "r");
  let pos = 0;
  let finished: boolean | undefined;
  void growing.done.then((ok) => (finished = ok));
  return new Readable({
    highWaterMark: CHUNK,
    async read() {
      try {
        for (;;) {
          const available = growing.written() - pos;
          if (available > 0) {
            const buf = Buffer.allocUnsafe(Math.min(available, CHUNK));
            const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
            pos += bytesRead;
            this.push(buf.subarray(0, bytesRead));
            return;
          }
          if (finished === true) {
            this.push(null);
            return;
          }
          if (finished === false) throw new Error("upstream download failed");
          await Promise.race([growing.done, new Promise((r) => setTimeout(r, POLL_MS))]);
        }
      } catch (err) {
        this.destroy(err as Error);
      }
    },
    destroy(err, callback) {
      handle.close().then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
}
