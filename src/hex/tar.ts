/**
 * A small in-memory tar reader and writer for Hex package tarballs (≤ 16 MiB by hex_core's
 * limits, so whole-buffer handling is fine). Reads USTAR (with prefix), GNU long names and PAX
 * path records; writes USTAR, falling back to a PAX record for paths that do not fit.
 */

export type TarEntryType = "file" | "directory" | "symlink";

export interface TarEntry {
  path: string;
  type: TarEntryType;
  mode: number;
  data: Uint8Array;
  linkname?: string;
}

export class TarFormatError extends Error {
  override name = "TarFormatError";
}

const BLOCK = 512;
const decoder = new TextDecoder("utf-8");

function cstr(buf: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && buf[end] !== 0) end++;
  return decoder.decode(buf.subarray(off, end));
}

function octal(buf: Uint8Array, off: number, len: number, what: string): number {
  // GNU base-256 for big numbers: high bit of the first byte set.
  if ((buf[off]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < len; i++) n = n * 256 + buf[off + i]!;
    return n;
  }
  const s = cstr(buf, off, len).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad ${what} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    let sp = off;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = parseInt(decoder.decode(data.subarray(off, sp)), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > data.length) throw new TarFormatError("bad PAX record");
    const rec = decoder.decode(data.subarray(sp + 1, off + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

export function readTar(buf: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const sum = octal(h, 148, 8, "checksum");
    let calc = 0;
    for (let i = 0; i < BLOCK; i++) calc += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== calc) throw new TarFormatError(`header checksum mismatch at offset ${off}`);
    const size = octal(h, 124, 12, "size");
    const typeflag = String.fromCharCode(h[156]!);
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new TarFormatError("truncated tar entry");
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === "L") {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (typeflag === "K") {
      longLink = cstr(data, 0, data.length);
      continue;
    }
    if (typeflag === "x") {
      pax = parsePax(data);
      continue;
    }
    if (typeflag === "g") continue;
    let path = cstr(h, 0, 100);
    const magic = cstr(h, 257, 6);
    if (magic === "ustar") {
      const prefix = cstr(h, 345, 155);
      if (prefix) path = `${prefix}/${path}`;
    }
    path = pax.path ?? longName ?? path;
    const linkname = pax.linkpath ?? longLink ?? cstr(h, 157, 100);
    longName = longLink = undefined;
    pax = {};
    const mode = octal(h, 100, 8, "mode") & 0o7777;
    let type: TarEntryType;
    if (typeflag === "0" || typeflag === "\0" || typeflag === "7") type = "file";
    else if (typeflag === "5") type = "directory";
    else if (typeflag === "2") type = "symlink";
    else throw new TarFormatError(`${path}: unsupported tar entry type ${JSON.stringify(typeflag)}`);
    entries.push(type === "symlink" ? { path, type, mode, data, linkname } : { path, type, mode, data });
  }
  return entries;
}

/** Fixed metadata as hex_core writes it: 2000-01-01T00:00:00Z, uid/gid 0. */
const MTIME = 946684800;
const encoder = new TextEncoder();

function writeOctal(h: Uint8Array, off: number, len: number, n: number): void {
  const s = n.toString(8).padStart(len - 1, "0");
  h.set(encoder.encode(s), off);
  h[off + len - 1] = 0;
}

function header(name: string, size: number, mode: number, typeflag: string, linkname = "", prefix = ""): Uint8Array {
  const h = new Uint8Array(BLOCK);
  h.set(encoder.encode(name), 0);
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, MTIME);
  h[156] = typeflag.charCodeAt(0);
  h.set(encoder.encode(linkname), 157);
  h.set(encoder.encode("ustar\u000000"), 257);
  h.set(encoder.encode(prefix), 345);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  const s = sum.toString(8).padStart(6, "0");
  h.set(encoder.encode(s), 148);
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

function splitUstar(path: string): { name: string; prefix: string } | null {
  const bytes = encoder.encode(path).length;
  if (bytes <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100 && name !== "") return { name, prefix };
  }
  return null;
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLen = encoder.encode(body).length;
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return encoder.encode(`${len}${body}`);
}

function pad(n: number): Uint8Array {
  return new Uint8Array((BLOCK - (n % BLOCK)) % BLOCK);
}

export function writeTar(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const typeflag = e.type === "file" ? "0" : e.type === "directory" ? "5" : "2";
    const data = e.type === "file" ? e.data : new Uint8Array(0);
    const linkname = e.linkname ?? "";
    let split = splitUstar(e.path);
    const longLink = encoder.encode(linkname).length > 100;
    if (!split || longLink) {
      const recs: Uint8Array[] = [];
      if (!split) recs.push(paxRecord("path", e.path));
      if (longLink) recs.push(paxRecord("linkpath", linkname));
      const body = concat(recs);
      parts.push(header("PaxHeader", body.length, 0o644, "x"), body, pad(body.length));
      split = split ?? { name: e.path.slice(-100).replace(/^[^/]*\//, ""), prefix: "" };
    }
    parts.push(header(split.name, data.length, e.mode, typeflag, longLink ? "" : linkname, split.prefix), data, pad(data.length));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
