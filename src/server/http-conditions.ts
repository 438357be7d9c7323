import type { ByteRange } from "../store/store.js";

/**
 * The outcome of a Range header against a representation of `size` bytes:
 * "full" (no usable range: absent, multi-range, malformed, or reversed), a single satisfiable
 * range, or "unsatisfiable" (416).
 */
export type RangeOutcome = { kind: "full" } | { kind: "partial"; range: ByteRange } | { kind: "unsatisfiable" };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

export function resolveRange(header: string | undefined, size: number): RangeOutcome {
  if (header === undefined) return { kind: "full" };
  const m = SINGLE_RANGE.exec(header.trim());
  // Several ranges, other units and junk are ignored (RFC 9110 lets a server serve the whole
  // representation instead); multipart/byteranges buys nothing for package clients.
  if (!m) return { kind: "full" };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    // Suffix range: the last N bytes. Absurdly large N means "all of it".
    const n = toNumber(last);
    if (n === 0) return { kind: "unsatisfiable" };
    if (size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = toNumber(first);
  if (start >= size) return { kind: "unsatisfiable" };
  if (last === "") return { kind: "partial", range: { start, end: size - 1 } };
  const end = toNumber(last);
  if (end < start) return { kind: "full" };
  return { kind: "partial", range: { start, end: Math.min(end, size - 1) } };
}

/** Digits beyond what a double holds exactly are clamped: they are past any real size anyway. */
function toNumber(digits: string): number {
  if (digits.length > 15) return Number.MAX_SAFE_INTEGER;
  return Number(digits);
}

/**
 * Whether If-None-Match matches the current entity tag (weak comparison, as RFC 9110 asks for
 * this header). An absent or empty header is no condition at all: rebar3 sends an empty one on
 * its first download and must get the body.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = header.trim();
  if (value === "") return false;
  if (value === "*") return true;
  const current = opaque(etag);
  for (const tag of splitTags(value)) {
    if (opaque(tag) === current) return true;
  }
  return false;
}

/** If-Range with an entity tag: the range applies only when it names the current version (strong). */
export function ifRangeAllows(header: string | undefined, etag: string): boolean {
  if (header === undefined || header.trim() === "") return true;
  const value = header.trim();
  if (value.startsWith("W/")) return false;
  if (!value.startsWith('"')) return false; // an HTTP date: we have no Last-Modified to compare with
  return value === etag;
}

function splitTags(value: string): string[] {
  const tags: string[] = [];
  const re = /\s*(W\/)?("[^"]*"|[^,\s]+)\s*(,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    tags.push(m[2]!);
    if (m[3] === "" || re.lastIndex >= value.length) break;
  }
  return tags;
}

function opaque(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}
