/**
 * Writes tarballs in Tar.create's canonical form (Tar.jl 1.10, spec §4.1): ustar headers with
 * a pax `x` header only when a path, link or size does not fit; mode 644/755; uid, gid and
 * mtime 0; entries depth-first with siblings in byte order of their names and every directory
 * before its contents; no wrapper directory, no "./", no end-of-archive blocks. The same tree
 * always gives the same bytes.
 */

export type CanonicalEntry =
  | { type: "file"; path: string; executable: boolean; size: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "directory"; path: string };

const BLOCK = 512;
const enc = new TextEncoder();

/** Compares paths component by component in byte order: "a/x" < "a.b" because "a" < "a.b". */
export function compareTarPaths(a: string, b: string): number {
  return Buffer.compare(tarSortKey(a), tarSortKey(b));
}

/**
 * The path's bytes with each "/" as NUL, which no name holds: comparing these bytes is
 * comparing component by component, a component before any longer one it begins
 * ("a/x" before "a.b", "a" before "a/x").
 */
function tarSortKey(path: string): Buffer {
  return Buffer.from(path.replaceAll("/", "\0"), "utf8");
}

/**
 * Sorts entries into Tar.create's order and adds the directory entries that are implied by
 * deeper paths but missing. Duplicate paths are an error: a tree has one entry per name.
 */
export function canonicalOrder(entries: readonly CanonicalEntry[]): CanonicalEntry[] {
  const byPath = new Map<string, CanonicalEntry>();
  for (const e of entries) {
    if (byPath.has(e.path)) throw new Error(`duplicate path in tree: ${JSON.stringify(e.path)}`);
    byPath.set(e.path, e);
  }
  for (const e of entries) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      const existing = byPath.get(dir);
      if (!existing) byPath.set(dir, { type: "directory", path: dir });
      else if (existing.type !== "directory") throw new Error(`${JSON.stringify(e.path)} lies beneath the non-directory ${JSON.stringify(dir)}`);
    }
  }
  // Keys made once per entry, not twice per comparison (a registry has over 100,000 entries).
  return [...byPath.values()]
    .map((e) => ({ e, key: tarSortKey(e.path) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ e }) => e);
}

/** The header block(s) for one entry: an optional pax header, then the ustar header. */
export function entryHeader(entry: CanonicalEntry): Uint8Array {
  const pathBytes = enc.encode(entry.path);
  const size = entry.type === "file" ? entry.size : 0;
  let link = entry.type === "symlink" ? entry.target : "";
  const extended: Array<[string, string]> = [];
  if (enc.encode(link).length > 100) {
    extended.push(["linkpath", link]);
    link = "";
  }
  let name = pathBytes;
  let prefix = new Uint8Array(0);
  if (pathBytes.length > 100) {
    const slash = pathBytes.length < 256 ? pathBytes.lastIndexOf(0x2f, 99) : -1;
    if (slash >= 0) {
      prefix = pathBytes.subarray(0, slash);
      name = pathBytes.subarray(slash + 1);
    }
    if (name.length > 100 || prefix.length > 155) {
      extended.push(["path", entry.path]);
      name = new Uint8Array(0);
      prefix = new Uint8Array(0);
    }
  }
  if (size >= 8 ** 12) extended.push(["size", String(size)]);

  const blocks: Uint8Array[] = [];
  if (extended.length > 0) {
    const records = paxRecords(extended);
    blocks.push(ustarBlock({ name: new Uint8Array(0), prefix: new Uint8Array(0), mode: 0, size: records.length, type: "x", link: "" }));
    blocks.push(records, new Uint8Array(padding(records.length)));
  }
  const mode = entry.type === "file" && !entry.executable ? 0o644 : 0o755;
  const type = entry.type === "file" ? "0" : entry.type === "symlink" ? "2" : "5";
  blocks.push(ustarBlock({ name, prefix, mode, size, type, link }));
  return Buffer.concat(blocks);
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function paxRecords(pairs: Array<[string, string]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of pairs.sort(([a], [b]) => (a < b ? -1 : 1))) {
    const body = enc.encode(` ${key}=${value}\n`);
    let n = body.length;
    while (n < body.length + String(n).length) n = body.length + String(n).length;
    parts.push(enc.encode(String(n)), body);
  }
  return Buffer.concat(parts);
}

function ustarBlock(h: { name: Uint8Array; prefix: Uint8Array; mode: number; size: number; type: string; link: string }): Uint8Array {
  const b = Buffer.alloc(BLOCK);
  b.set(h.name, 0);
  b.write(`${h.mode.toString(8).padStart(6, "0")} \0`, 100, "latin1");
  b.write("000000 \0", 108, "latin1");
  b.write("000000 \0", 116, "latin1");
  const octal = h.size.toString(8).padStart(11, "0");
  if (octal.length <= 11) b.write(`${octal} `, 124, "latin1");
  else if (octal.length === 12) b.write(octal, 124, "latin1");
  else {
    // Base-256 with the high bit set, as GNU tar and Tar.jl write sizes of 8 GiB and more.
    let v = BigInt(h.size);
    for (let i = 11; i >= 1; i--) {
      b[124 + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    b[124] = 0x80 | Number(v & 0x7fn);
  }
  b.write("00000000000 ", 136, "latin1");
  b.write("        ", 148, "latin1");
  b.write(h.type, 156, "latin1");
  b.write(h.link, 157, "utf8");
  b.write("ustar\0", 257, "latin1");
  b.write("00", 263, "latin1");
  b.write("000000 \0", 329, "latin1");
  b.write("000000 \0", 337, "latin1");
  b.set(h.prefix, 345);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

/**
 * The tar stream for entries already in canonical order; `content` yields each file's bytes,
 * which must add up to the declared size.
 */
export async function* writeTar(
  entries: Iterable<CanonicalEntry>,
  content: (entry: Extract<CanonicalEntry, { type: "file" }>) => AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let any = false;
  for (const entry of entries) {
    any = true;
    yield entryHeader(entry);
    if (entry.type !== "file") continue;
    let written = 0;
    for await (const chunk of content(entry)) {
      written += chunk.length;
      if (written > entry.size) throw new Error(`${entry.path}: more than the declared ${entry.size} bytes`);
      yield chunk;
    }
    if (written !== entry.size) throw new Error(`${entry.path}: ${written} bytes, expected ${entry.size}`);
    const pad = padding(entry.size);
    if (pad > 0) yield new Uint8Array(pad);
  }
  // Tar.create of an empty directory writes the root itself as ".".
  if (!any) yield entryHeader({ type: "directory", path: "." });
}
