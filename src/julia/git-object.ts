import { createHash, type Hash } from "node:crypto";

/** Git's tree entry modes, as git writes them (no leading zero). */
export type GitMode = "100644" | "100755" | "120000" | "40000";

export interface GitTreeEntry {
  name: string;
  mode: GitMode;
  /** 40 lower-case hex digits. */
  hash: string;
}

export const EMPTY_TREE_HASH = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** Streams a blob's bytes into git's object hash: SHA-1 of "blob <size>\0" + bytes. */
export class BlobHasher {
  private readonly hash: Hash;
  private seen = 0;

  constructor(readonly size: number) {
    this.hash = createHash("sha1").update(`blob ${size}\0`);
  }

  update(chunk: Uint8Array): void {
    this.seen += chunk.length;
    this.hash.update(chunk);
  }

  digest(): string {
    if (this.seen !== this.size) throw new Error(`blob declared ${this.size} bytes but had ${this.seen}`);
    return this.hash.digest("hex");
  }
}

export function blobHash(bytes: Uint8Array): string {
  const h = new BlobHasher(bytes.length);
  h.update(bytes);
  return h.digest();
}

/**
 * Git orders tree entries by name bytes, comparing a directory as if its name ended in "/"
 * (so "a.b" sorts before the directory "a").
 */
function sortKey(entry: GitTreeEntry): Buffer {
  return Buffer.from(entry.mode === "40000" ? `${entry.name}/` : entry.name, "utf8");
}

export function treeHash(entries: readonly GitTreeEntry[]): string {
  // Keys made once per entry, not twice per comparison: a registry directory has thousands.
  const sorted = entries.map((e) => ({ e, key: sortKey(e) })).sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { e } of sorted) {
    parts.push(Buffer.from(`${e.mode} ${e.name}\0`, "utf8"), Buffer.from(e.hash, "hex"));
  }
  const body = Buffer.concat(parts);
  return createHash("sha1").update(`tree ${body.length}\0`).update(body).digest("hex");
}
