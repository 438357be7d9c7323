import { ByteReader } from "../bytes/byte-reader.js";

export type TarMemberType = "file" | "directory" | "symlink" | "hardlink";

export interface TarMember {
  /** The path as the archive spells it (after pax/GNU long names). */
  rawPath: string;
  /** Path components with "" and "." dropped, as Tar.jl does before extracting or hashing. */
  parts: string[];
  type: TarMemberType;
  mode: number;
  size: number;
  /** Symlink target, or the hard link's earlier member path. */
  link: string;
  /** Where the member's header starts in the stream, for error messages. */
  offset: number;
}

export interface TarLimits {
  /** Bytes of pax / GNU long-name data one member may carry (they are held in memory). */
  maxMetadataBytes: number;
  maxMembers: number;
  /** Sum of member sizes: a bound on what an archive may unpack to. */
  maxTotalBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxMetadataBytes: 1 << 20,
  maxMembers: 1_000_000,
  maxTotalBytes: 16 * 2 ** 30,
};

export class TarFormatError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (tar header at byte ${offset})`);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;

/**
 * Reads an uncompressed tar stream member by member, with the acceptance rules of Tar.jl
 * (Pkg's reader): ustar/GNU/v7 headers, pax `x`/`g` (path, linkpath, size), GNU `L`/`K`,
 * files, directories, symlinks and hard links only; paths relative with no "..".
 * Each member's body must be consumed (or abandoned) before asking for the next.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): AsyncGenerator<{ member: TarMember; body: AsyncIterable<Uint8Array> }> {
  const reader = new ByteReader(source);
  const globals = new Map<string, string>();
  let members = 0;
  let total = 0;
  try {
    for (;;) {
      const header = await readMemberHeader(reader, globals, limits);
      if (!header) return;
      const { member, offset } = header;
      if (++members > limits.maxMembers) throw new TarFormatError(`more than ${limits.maxMembers} members`, offset);
      total += member.size;
      if (total > limits.maxTotalBytes) throw new TarFormatError(`members add up to more than ${limits.maxTotalBytes} bytes`, offset);
      const dataSize = member.type === "file" ? member.size : 0;
      let consumed = 0;
      const body = (async function* () {
        for await (const chunk of reader.chunks(dataSize)) {
          consumed += chunk.length;
          yield chunk;
        }
      })();
      yield { member, body };
      if (consumed < dataSize) await reader.skip(dataSize - consumed);
      await reader.skip(padding(dataSize));
    }
  } finally {
    await reader.close();
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

async function readMemberHeader(
  reader: ByteReader,
  globals: Map<string, string>,
  limits: TarLimits,
): Promise<{ member: TarMember; offset: number } | null> {
  const extended = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const offset = reader.offset;
    const block = await reader.read(BLOCK);
    if (block.length === 0) return null;
    if (block.length < BLOCK) throw new TarFormatError("truncated header", offset);
    if (block.every((b) => b === 0)) {
      // End of archive. Read the rest anyway: a damaged compressed stream (a cut gzip
      // trailer) only reports its error at its end, and Pkg's decompressor would see it.
      await reader.drain();
      return null;
    }
    checkChecksum(block, offset);
    const version = cString(block, 263, 2).replace(/\0/g, "");
    if (!/^0* *$/.test(version)) throw new TarFormatError(`unsupported tar version field ${JSON.stringify(version)}`, offset);
    const typeflag = String.fromCharCode(block[156]!);
    const size = parseSize(block, offset);

    if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
      if (size > limits.maxMetadataBytes) throw new TarFormatError(`metadata member of ${size} bytes is over the limit`, offset);
      const data = await reader.read(size);
      if (data.length < size) throw new TarFormatError("truncated metadata member", offset);
      await reader.skip(padding(size));
      if (typeflag === "L" || typeflag === "K") {
        const nul = data.indexOf(0);
        if (nul < 0) throw new TarFormatError("GNU long name without a terminating NUL", offset);
        const value = data.subarray(0, nul).toString("utf8");
        if (typeflag === "L") longName = value;
        else longLink = value;
      } else {
        parsePax(data, typeflag === "g" ? globals : extended, offset);
      }
      continue;
    }

    const pax = (key: string): string | undefined => extended.get(key) ?? globals.get(key);
    const magic = block.subarray(257, 263).toString("latin1");
    const name = cString(block, 0, 100);
    const prefix = magic === "ustar\0" ? cString(block, 345, 155) : "";
    const rawPath = pax("path") ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const link = pax("linkpath") ?? longLink ?? cString(block, 157, 100);
    const paxSize = pax("size");
    const realSize = paxSize !== undefined ? parsePaxSize(paxSize, offset) : size;
    const type = memberType(typeflag, offset);
    const mode = parseOctal(block.subarray(100, 108), "mode", offset);
    const member: TarMember = { rawPath, parts: [], type, mode, size: type === "hardlink" ? 0 : realSize, link, offset };
    checkMember(member, realSize, offset);
    member.parts = rawPath.split("/").filter((p) => p !== "" && p !== ".");
    return { member, offset };
  }
}

function memberType(flag: string, offset: number): TarMemberType {
  switch (flag) {
    case "0":
    case "\0":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "5":
      return "directory";
    default:
      throw new TarFormatError(`unsupported entry type ${JSON.stringify(flag)}`, offset);
  }
}

/** The checks of Tar.jl's check_header, with the same wording where it has one. */
function checkMember(m: TarMember, size: number, offset: number): void {
  const p = m.rawPath;
  const fail = (why: string): never => {
    throw new TarFormatError(`${why}: ${JSON.stringify(p)}`, offset);
  };
  if (p === "") fail("path is empty");
  if (p.includes("\0") || m.link.includes("\0")) fail("path contains NUL bytes");
  if (p.startsWith("/")) fail("path is absolute");
  if (/(^|\/)\.\.(\/|$)/.test(p)) fail("path contains '..' component");
  if (m.type === "symlink" && size !== 0) fail("symlink with non-zero size");
  if (m.type === "symlink" && m.link === "") fail("symlink with empty target");
  if (m.type === "directory" && size !== 0) fail("directory with non-zero size");
  if (m.type !== "directory" && p.endsWith("/")) fail("non-directory path ending with '/'");
  if (m.type !== "directory" && (p === "." || p.endsWith("/."))) fail("non-directory path ending with '.' component");
  if (m.type === "hardlink" && (m.link.startsWith("/") || /(^|\/)\.\.(\/|$)/.test(m.link))) fail("hard link target escapes the archive");
  if (m.type !== "directory" && p.split("/").every((c) => c === "" || c === ".")) fail("non-directory at the archive root");
}

function checkChecksum(block: Buffer, offset: number): void {
  const stored = parseOctal(block.subarray(148, 156), "checksum", offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) throw new TarFormatError("header checksum mismatch", offset);
}

function parseSize(block: Buffer, offset: number): number {
  const field = block.subarray(124, 136);
  if (field[0]! & 0x80) {
    let v = BigInt(field[0]! & 0x7f);
    for (let i = 1; i < 12; i++) v = (v << 8n) | BigInt(field[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError("size too large", offset);
    return Number(v);
  }
  return parseOctal(field, "size", offset);
}

function parseOctal(field: Buffer, what: string, offset: number): number {
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`invalid ${what} field ${JSON.stringify(text)}`, offset);
  return parseInt(text, 8);
}

function parsePaxSize(value: string, offset: number): number {
  if (!/^[0-9]+$/.test(value)) throw new TarFormatError(`invalid pax size ${JSON.stringify(value)}`, offset);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new TarFormatError("pax size too large", offset);
  return n;
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? length : nul).toString("utf8");
}

function parsePax(data: Buffer, into: Map<string, string>, offset: number): void {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) throw new TarFormatError("malformed pax record", offset);
    const len = Number(data.subarray(pos, space).toString("latin1"));
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new TarFormatError("malformed pax record length", offset);
    }
    const record = data.subarray(space + 1, pos + len);
    if (record[record.length - 1] !== 0x0a) throw new TarFormatError("pax record without newline", offset);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError("pax record without '='", offset);
    const key = record.subarray(0, eq).toString("utf8");
    const value = record.subarray(eq + 1, record.length - 1).toString("utf8");
    if (key === "path" || key === "linkpath" || key === "size") into.set(key, value);
    pos += len;
  }
}
