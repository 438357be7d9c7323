import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import path from "node:path";

const MiB = 1024 * 1024;

/**
 * A file of `size` bytes in dir where every MiB differs (so reordered or dropped parts show),
 * written a MiB at a time, with its sha256.
 */
export function generatedFile(dir: string, size: number): { path: string; sha256: string } {
  const p = path.join(dir, `big-${randomBytes(4).toString("hex")}`);
  const block = randomBytes(MiB);
  const hash = createHash("sha256");
  const fd = openSync(p, "w");
  for (let offset = 0, i = 0; offset < size; offset += MiB, i++) {
    block.writeUInt32BE(i, 0);
    const chunk = block.subarray(0, Math.min(MiB, size - offset));
    writeSync(fd, chunk);
    hash.update(chunk);
  }
  closeSync(fd);
  return { path: p, sha256: hash.digest("hex") };
}
