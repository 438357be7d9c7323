import { constants, createReadStream } from "node:fs";
import { link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile, copyFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import {
  assertValidKey,
  assertValidRange,
  PreconditionFailedError,
  type GetOptions,
  type ObjectInfo,
  type ObjectListing,
  type PutOptions,
  type PutResult,
  type PutSource,
  type Store,
  type StoredObject,
} from "./store.js";

/** Temp files live inside the root so that rename() stays on one file system. */
const TMP_DIR = ".pkgpub-tmp";
const LOCK_STALE_MS = 30_000;
/**
 * Read size for object bodies. Node's 64 KiB default costs a read, a socket write and their
 * stream bookkeeping per 64 KiB; a 5 MB tarball in 512 KiB reads is ten of each, and a
 * response still holds at most one chunk beyond the socket's buffer (backpressure).
 */
const READ_CHUNK = 512 * 1024;

/**
 * A local directory as the bucket. Writes go to a temp file and are renamed into place, so a
 * reader or a crash never sees half an object; create-only writes use link(), which fails
 * atomically when the key exists; ifMatch writes hold a per-key lock file.
 */
export class FsStore implements Store {
  readonly description: string;

  constructor(readonly root: string) {
    this.root = path.resolve(root);
    this.description = `directory ${this.root}`;
  }

  private file(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split("/"));
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const st = await statFile(this.file(key));
    return st ? { size: st.size, etag: etagOf(st) } : null;
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | null> {
    const file = this.file(key);
    // Checked before opening: a FileHandle whose read stream refused its range cannot be closed.
    if (options.range) assertValidRange(key, options.range);
    // Open first, then stat the open handle: the bytes and the etag are of one version even if
    // a writer renames a new one into place meanwhile.
    let handle;
    try {
      handle = await open(file, "r");
    } catch (err) {
      if (isCode(err, "ENOENT") || isCode(err, "ENOTDIR") || isCode(err, "EISDIR")) return null;
      throw err;
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return null;
      }
      const range = options.range;
      const length = range ? Math.min(range.end, st.size - 1) - range.start + 1 : st.size;
      const body = createReadStream("", {
        fd: handle,
        start: range?.start,
        end: range?.end,
        autoClose: true,
        // No larger than the object: a 512 KiB read buffer for a 100 KB tarball is allocated
        // (and faulted in) per request for nothing, and costs a small object half its speed.
        highWaterMark: Math.max(4096, Math.min(READ_CHUNK, length + 1)),
      });
      return { size: st.size, etag: etagOf(st), body };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async put(key: string, source: PutSource, options: PutOptions = {}): Promise<PutResult> {
    const dest = this.file(key);
    await mkdir(path.dirname(dest), { recursive: true });
    const tmp = await this.writeTemp(source);
    // The temp file's inode, size and mtime survive link() and rename(), so this is the etag of
    // what this call wrote; a stat of dest afterwards could see a concurrent writer's version.
    const etag = etagOf(await stat(tmp));
    try {
      if (options.ifNoneMatch === "*") {
        try {
          await link(tmp, dest);
        } catch (err) {
          if (isCode(err, "EEXIST")) throw new PreconditionFailedError(key, "already exists");
          throw err;
        }
      } else if (options.ifMatch !== undefined) {
        await this.withLock(dest, async () => {
          const st = await statFile(dest);
          if (!st) throw new PreconditionFailedError(key, "does not exist");
          if (etagOf(st) !== options.ifMatch) throw new PreconditionFailedError(key, "changed since it was read");
          await rename(tmp, dest);
        });
      } else {
        await this.withLock(dest, () => rename(tmp, dest));
      }
    } finally {
      await rm(tmp, { force: true });
    }
    return { etag };
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ObjectListing> {
    const keys: string[] = [];
    // Walk only the deepest directory the prefix names, not the whole store.
    const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (dir !== "") assertValidKey(dir);
    await walk(this.root, dir, keys);
    keys.sort();
    for (const key of keys) {
      if (!key.startsWith(prefix)) continue;
      const st = await statFile(path.join(this.root, key));
      if (st) yield { key, size: st.size, etag: etagOf(st), modified: st.mtime };
    }
  }

  private async writeTemp(source: PutSource): Promise<string> {
    const dir = path.join(this.root, TMP_DIR);
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, randomBytes(12).toString("hex"));
    try {
      if (typeof source === "string" || source instanceof Uint8Array) {
        await writeFile(tmp, source, { flag: "wx" });
      } else {
        await copyFile(source.path, tmp, constants.COPYFILE_EXCL);
      }
      // On disk before it gets its name: after a crash a key holds the old bytes or the new,
      // never an empty file that putOnce would then take for the finished object.
      const h = await open(tmp, "r+");
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return tmp;
  }

  /** Serialises writers of one key across processes: the lock is a file created with O_EXCL. */
  private async withLock<T>(dest: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${dest}.pkgpub-lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        const h = await open(lock, "wx");
        await h.close();
        break;
      } catch (err) {
        if (!isCode(err, "EEXIST")) throw err;
        const st = await statFile(lock);
        if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
          await unlink(lock).catch(() => undefined);
          continue;
        }
        await new Promise((r) => setTimeout(r, Math.min(5 + attempt * 2, 50)));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch (err) {
    if (isCode(err, "ENOENT")) return;
    throw err;
  }
  for (const e of entries) {
    if (rel === "" && e.name === TMP_DIR) continue;
    if (e.name.endsWith(".pkgpub-lock")) continue;
    const child = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(root, child, out);
    else if (e.isFile()) out.push(child);
  }
}

async function statFile(file: string): Promise<Stats | null> {
  try {
    const st = await stat(file);
    return st.isFile() ? st : null;
  } catch (err) {
    if (isCode(err, "ENOENT") || isCode(err, "ENOTDIR")) return null;
    throw err;
  }
}

/** Every write is a new inode (rename or link of a fresh temp file), so the inode names the version. */
function etagOf(st: Stats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
