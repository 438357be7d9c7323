// Julia version numbers and Pkg's version ranges (Pkg `Versions.jl` semantics, spec §5).

export interface VersionNumber {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
}

const VERSION_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+?))?(?:\+([0-9A-Za-z.-]+))?$/;

/** Parses a Julia VersionNumber ("1.2.3", "1.2", "1.0.0-rc1+b"); null when it is not one. */
export function parseVersion(text: string): VersionNumber | null {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return null;
  const nums = [m[1], m[2], m[3]].map((s) => (s === undefined ? 0 : Number(s)));
  if (nums.some((n) => !Number.isSafeInteger(n))) return null;
  return {
    major: nums[0]!,
    minor: nums[1]!,
    patch: nums[2]!,
    prerelease: m[4] ? m[4].split(".") : [],
    build: m[5] ? m[5].split(".") : [],
  };
}

export function formatVersion(v: VersionNumber): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease.length) s += `-${v.prerelease.join(".")}`;
  if (v.build.length) s += `+${v.build.join(".")}`;
  return s;
}

function compareIdents(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = Number(x) - Number(y);
      if (d !== 0) return Math.sign(d);
    } else if (xn !== yn) {
      return xn ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return Math.sign(a.length - b.length);
}

/** Julia's isless on VersionNumber: prerelease sorts before the release, build after it. */
export function compareVersions(a: VersionNumber, b: VersionNumber): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return Math.sign(d);
  if (a.prerelease.length !== b.prerelease.length && (a.prerelease.length === 0 || b.prerelease.length === 0)) {
    return a.prerelease.length === 0 ? 1 : -1;
  }
  const p = compareIdents(a.prerelease, b.prerelease);
  if (p !== 0) return p;
  if (a.build.length !== b.build.length && (a.build.length === 0 || b.build.length === 0)) {
    return a.build.length === 0 ? -1 : 1;
  }
  return compareIdents(a.build, b.build);
}

export function sameVersion(a: VersionNumber, b: VersionNumber): boolean {
  return compareVersions(a, b) === 0;
}

/** A bound with 0–3 significant components; 0 components means unbounded ("*"). */
export interface VersionBound {
  t: [number, number, number];
  n: number;
}

export function bound(...parts: number[]): VersionBound {
  if (parts.length > 3) throw new Error("a version bound has at most 3 components");
  if (parts.some((p) => !Number.isSafeInteger(p) || p < 0)) throw new Error(`invalid version bound ${parts.join(".")}`);
  return { t: [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0], n: parts.length };
}

export const UNBOUNDED: VersionBound = bound();

export interface VersionRange {
  lower: VersionBound;
  upper: VersionBound;
}

const sameT = (a: VersionBound, b: VersionBound) => a.t[0] === b.t[0] && a.t[1] === b.t[1] && a.t[2] === b.t[2];
const sameBound = (a: VersionBound, b: VersionBound) => a.n === b.n && sameT(a, b);

/** Pkg's VersionRange constructor: equal padded tuples collapse to the upper bound (1.2.0-1.2 => 1.2). */
export function range(lower: VersionBound, upper: VersionBound): VersionRange {
  return sameT(lower, upper) ? { lower: upper, upper } : { lower, upper };
}

function boundText(b: VersionBound): string {
  return b.t.slice(0, b.n).join(".");
}

/** Pkg's print(::VersionRange): "lo", "lo-hi", "lo-*", "*". */
export function formatRange(r: VersionRange): string {
  const { lower, upper } = r;
  if (lower.n === 0 && upper.n === 0) return "*";
  if (lower.n === 0) return `0-${upper.t.join(".")}`;
  if (upper.n === 0) return `${lower.t.join(".")}-*`;
  return sameBound(lower, upper) ? boundText(lower) : `${boundText(lower)}-${boundText(upper)}`;
}

function parseBound(text: string): VersionBound {
  const s = text.trim().replace(/^v/, "");
  if (s === "*") return UNBOUNDED;
  if (!/^\d+(\.\d+){0,2}$/.test(s)) throw new Error(`invalid version bound ${JSON.stringify(text)}`);
  return bound(...s.split(".").map(Number));
}

/** Parses a registry range key ("0.7-0.8", "1", "0.5.2-0.5", "1.2.3-*"). */
export function parseRange(text: string): VersionRange {
  const parts = text.split("-");
  if (parts.length !== 1 && parts.length !== 2) throw new Error(`invalid version range ${JSON.stringify(text)}`);
  const lower = parseBound(parts[0]!);
  const upper = parts.length === 1 ? lower : parseBound(parts[1]!);
  return range(lower, upper);
}

/** lower ≲ v ≲ upper, each bound compared on its own significant components only. */
export function inRange(v: VersionNumber, r: VersionRange): boolean {
  const vt = [v.major, v.minor, v.patch];
  const cmp = (b: VersionBound) => {
    for (let i = 0; i < b.n; i++) {
      if (vt[i]! !== b.t[i]) return vt[i]! < b.t[i]! ? -1 : 1;
    }
    return 0;
  };
  return cmp(r.lower) >= 0 && cmp(r.upper) <= 0;
}

function isEmptyRange(r: VersionRange): boolean {
  for (let i = 0; i < Math.min(r.lower.n, r.upper.n); i++) {
    if (r.lower.t[i]! > r.upper.t[i]!) return true;
    if (r.lower.t[i]! < r.upper.t[i]!) return false;
  }
  return false;
}

function lessLower(a: VersionBound, b: VersionBound): boolean {
  for (let i = 0; i < Math.min(a.n, b.n); i++) {
    if (a.t[i]! !== b.t[i]!) return a.t[i]! < b.t[i]!;
  }
  return a.n < b.n;
}

function lessUpper(a: VersionBound, b: VersionBound): boolean {
  for (let i = 0; i < Math.min(a.n, b.n); i++) {
    if (a.t[i]! !== b.t[i]!) return a.t[i]! < b.t[i]!;
  }
  return a.n > b.n;
}

/** Can the range ending at `up` be merged with the next one starting at `lo` (1.5-2.8 with 2.5-3)? */
function isJoinable(up: VersionBound, lo: VersionBound): boolean {
  if (up.n === 0 && lo.n === 0) return true;
  if (up.n === lo.n) {
    const n = up.n;
    for (let i = 0; i < n - 1; i++) {
      if (up.t[i]! > lo.t[i]!) return true;
      if (up.t[i]! < lo.t[i]!) return false;
    }
    return !(up.t[n - 1]! < lo.t[n - 1]! - 1);
  }
  for (let i = 0; i < Math.min(up.n, lo.n); i++) {
    if (up.t[i]! > lo.t[i]!) return true;
    if (up.t[i]! < lo.t[i]!) return false;
  }
  return true;
}

/** Pkg's union!(ranges): sort, drop empty ranges, merge joinable neighbours. */
export function unionRanges(input: VersionRange[]): VersionRange[] {
  const ranges = [...input].sort((a, b) =>
    lessLower(a.lower, b.lower) || (sameBound(a.lower, b.lower) && lessUpper(a.upper, b.upper)) ? -1 : lessLower(b.lower, a.lower) || (sameBound(a.lower, b.lower) && lessUpper(b.upper, a.upper)) ? 1 : 0,
  );
  const out: VersionRange[] = [];
  const nonEmpty = ranges.filter((r) => !isEmptyRange(r));
  if (nonEmpty.length === 0) return out;
  let lo = nonEmpty[0]!.lower;
  let up = nonEmpty[0]!.upper;
  for (const r of nonEmpty.slice(1)) {
    if (isJoinable(up, r.lower)) {
      if (lessUpper(up, r.upper)) up = r.upper;
      continue;
    }
    out.push(range(lo, up));
    lo = r.lower;
    up = r.upper;
  }
  const last = range(lo, up);
  if (!isEmptyRange(last)) out.push(last);
  return out;
}

const NUM = "v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?";
const CARET_TILDE = new RegExp(`^([~^]?)${NUM}$`);
const INEQUALITY = new RegExp(`^(≥\\s*|>=\\s*|=\\s*|<\\s*)v?${NUM}$`);
const HYPHEN = new RegExp(`^\\s*${NUM}\\s*?\\s-\\s\\s*?${NUM}\\s*$`);

function components(caps: Array<string | undefined>): { nums: [number, number, number]; significant: number } {
  const significant = caps.filter((c) => c !== undefined).length;
  const nums = caps.map((c) => (c === undefined ? 0 : Number(c))) as [number, number, number];
  return { nums, significant };
}

/**
 * Pkg's semver_spec: a [compat] entry ("1.2, 2", "~0.3", ">= 1", "=1.2.3", "0.7 - 1") as the
 * union of the ranges it allows. Throws naming the entry when it is not valid compat syntax.
 */
export function semverSpec(spec: string): VersionRange[] {
  const ranges: VersionRange[] = [];
  for (const raw of spec.trim().split(",")) {
    const term = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = CARET_TILDE.exec(term))) {
      const { nums, significant } = components([m[2], m[3], m[4]]);
      const [major, minor, patch] = nums;
      if (significant === 3 && major === 0 && minor === 0 && patch === 0) throw new Error(`invalid version "0.0.0" in ${JSON.stringify(spec)}`);
      const v0 = bound(major, minor, patch);
      if (m[1] === "~") {
        ranges.push(range(v0, significant >= 2 ? bound(major, minor) : bound(major)));
      } else if (major !== 0) {
        ranges.push(range(v0, bound(major)));
      } else if (minor !== 0) {
        ranges.push(range(v0, bound(major, minor)));
      } else {
        ranges.push(range(v0, significant === 1 ? bound(0) : significant === 2 ? bound(0, 0) : bound(0, 0, patch)));
      }
    } else if ((m = INEQUALITY.exec(term))) {
      const op = m[1]!.trim();
      const { nums, significant } = components([m[2], m[3], m[4]]);
      const [major, minor, patch] = nums;
      if (significant === 3 && major === 0 && minor === 0 && patch === 0) throw new Error(`invalid version "0.0.0" in ${JSON.stringify(spec)}`);
      const v = bound(major, minor, patch);
      if (op === "<") {
        let hi: VersionBound;
        if (patch !== 0) hi = bound(major, minor, patch - 1);
        else if (minor !== 0) hi = bound(major, minor - 1);
        else if (major !== 0) hi = bound(major - 1);
        else throw new Error(`empty version range ${JSON.stringify(term)} in ${JSON.stringify(spec)}`);
        ranges.push(range(bound(0, 0, 0), hi));
      } else if (op === "=") {
        ranges.push(range(v, v));
      } else {
        ranges.push(range(v, UNBOUNDED));
      }
    } else if ((m = HYPHEN.exec(term))) {
      const lo = [m[1], m[2], m[3]].filter((c): c is string => c !== undefined).map(Number);
      const hi = [m[4], m[5], m[6]].filter((c): c is string => c !== undefined).map(Number);
      ranges.push(range(bound(...lo), bound(...hi)));
    } else {
      throw new Error(`invalid version specifier ${JSON.stringify(spec)}`);
    }
  }
  return unionRanges(ranges);
}

/** The registry's Compat.toml value for a [compat] entry: one range string, or an array of them. */
export function compatValue(spec: string): string | string[] {
  const ranges = semverSpec(spec).map(formatRange);
  return ranges.length === 1 ? ranges[0]! : ranges;
}
