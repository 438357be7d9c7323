import { createWriteStream, statSync, type WriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { FsStore } from "../store/fs-store.js";
import { assertValidKey } from "../store/store.js";

const TMP = ".pkgpub-tmp";

/**
 * Local cache of verified upstream content, laid out like a store (so FsStore reads it), with a
 * size limit enforced by evicting the least recently used objects. Nothing enters it except by
 * commit(), which callers only reach after verification; this is never the bucket.
 *
 * Several processes (serve --workers) may share one cache directory: each downloads into a
 * temp directory of its own (.pkgpub-tmp/<pid>) and renames finished files into place, so a
 * reader never sees a torn file; has() looks at the disk, so what one worker cached is a hit
 * for the others, and what one evicted is a miss for all. Each process evicts by the sizes it
 * knows of (what it scanned at start, cached, or found on disk).
 */
export class DiskCache {
  readonly reader: FsStore;
  private readonly entries = new Map<string, { size: number; used: number }>();
  private total = 0;
  private readonly tmpDir: string;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    this.reader = new FsStore(dir);
    this.tmpDir = path.join(dir, TMP, String(process.pid));
  }

  static async open(dir: string, maxBytes: number): Promise<DiskCache> {
    const cache = new DiskCache(path.resolve(dir), maxBytes);
    await mkdir(path.join(cache.dir, TMP), { recursive: true });
    // Leftovers of downloads cut short by a crash: this pid's, and those of processes that are
    // gone. A live process's downloads are its own.
    for (const name of await readdir(path.join(cache.dir, TMP))) {
      if (name !== String(process.pid) && /^\d+$/.test(name) && alive(Number(name))) continue;
      await rm(path.join(cache.dir, TMP, name), { recursive: true, force: true });
    }
    await mkdir(cache.tmpDir, { recursive: true });
    await cache.scan("");
    await cache.evict();
    return cache;
  }

  private async scan(rel: string): Promise<void> {
    const entries = await readdir(path.join(this.dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (rel === "" && e.name === TMP) continue;
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await this.scan(child);
      else if (e.isFile()) {
        const st = await stat(path.join(this.dir, child));
        this.entries.set(child, { size: st.size, used: st.mtimeMs });
        this.total += st.size;
      }
    }
  }

  /** Whether the key is cached, by the disk: another process may have added or evicted it. */
  has(key: string): boolean {
    assertValidKey(key);
    const st = statSync(path.join(this.dir, ...key.split("/")), { throwIfNoEntry: false });
    const e = this.entries.get(key);
    if (!st?.isFile()) {
      if (e) {
        this.entries.delete(key);
        this.total -= e.size;
      }
      return false;
    }
    if (!e) {
      this.entries.set(key, { size: st.size, used: Date.now() });
      this.total += st.size;
    }
    return true;
  }

  /** Marks a key as just used (for eviction order). */
  touch(key: string): void {
    const e = this.entries.get(key);
    if (e) e.used = Date.now();
  }

  /** A temp file to download into; commit() or discard() it. */
  temp(): { file: string; stream: WriteStream } {
    const file = this.tempPath();
    return { file, stream: createWriteStream(file, { flags: "wx" }) };
  }

  tempPath(): string {
    return path.join(this.tmpDir, randomBytes(12).toString("hex"));
  }

  async commit(key: string, tempFile: string): Promise<void> {
    assertValidKey(key);
    const dest = path.join(this.dir, ...key.split("/"));
    await mkdir(path.dirname(dest), { recursive: true });
    const st = await stat(tempFile);
    await rename(tempFile, dest);
    const old = this.entries.get(key);
    if (old) this.total -= old.size;
    this.entries.set(key, { size: st.size, used: Date.now() });
    this.total += st.size;
    await this.evict(key);
  }

  async discard(tempFile: string): Promise<void> {
    await rm(tempFile, { force: true });
  }

  async remove(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.total -= e.size;
    await rm(path.join(this.dir, ...key.split("/")), { force: true });
  }

  get size(): number {
    return this.total;
  }

  private async evict(keep?: string): Promise<void> {
    if (this.total <= this.maxBytes) return;
    const order = [...this.entries].filter(([k]) => k !== keep).sort((a, b) => a[1].used - b[1].used);
    for (const [key] of order) {
      if (this.total <= this.maxBytes) break;
      await this.remove(key);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
