// The range compression of Deps/Compat/WeakDeps/WeakCompat files (RegistryTools Compress, spec §6.6).

import { bound, compareVersions, formatRange, inRange, parseRange, range, unionRanges, type VersionNumber, type VersionRange } from "./versions.js";

/** A value in one of these files: a UUID or range string, or an array of range strings. */
export type EntryValue = string | string[];
/** Version (as written in Versions.toml) → name → value. */
export type Uncompressed = Map<string, Map<string, EntryValue>>;
/** Range key → name → value, as stored in the file. */
export type Compressed = Record<string, Record<string, EntryValue>>;

const release = (v: VersionNumber): VersionNumber => ({ major: v.major, minor: v.minor, patch: v.patch, prerelease: [], build: [] });

function uniqueSorted(vs: VersionNumber[]): VersionNumber[] {
  const sorted = vs.map(release).sort(compareVersions);
  return sorted.filter((v, i) => i === 0 || compareVersions(v, sorted[i - 1]!) !== 0);
}

/**
 * Ranges covering every version of `subset` and none of the rest of `pool` (prerelease and build
 * parts ignored): the first fit of the widest-first search RegistryTools does, so our files
 * match the ones it writes. The search never crosses a major version, but RegistryTools hands
 * its ranges to Pkg's VersionSpec, whose constructor unions ranges that touch; so "0.4.2-0"
 * and "1" come out as one "0.4.2-1", and so must ours.
 */
export function compressVersions(pool: VersionNumber[], subset: VersionNumber[]): VersionRange[] {
  let remaining = uniqueSorted(subset);
  const complement = uniqueSorted(pool).filter((v) => !remaining.some((s) => compareVersions(s, v) === 0));
  const ranges: VersionRange[] = [];
  search: while (remaining.length > 0) {
    const a = remaining[0]!;
    for (const b of [...remaining].reverse()) {
      if (a.major !== b.major) continue;
      const at = [a.major, a.minor, a.patch];
      const bt = [b.major, b.minor, b.patch];
      for (let m = 1; m <= 3; m++) {
        for (let n = 1; n <= 3; n++) {
          const r = range(bound(...at.slice(0, m)), bound(...bt.slice(0, n)));
          if (!complement.some((v) => inRange(v, r))) {
            remaining = remaining.filter((v) => !inRange(v, r));
            ranges.push(r);
            continue search;
          }
        }
      }
    }
    throw new Error(`cannot find a version range for ${a.major}.${a.minor}.${a.patch}: a release and its prerelease are both registered`);
  }
  return unionRanges(ranges);
}

/** Expands a stored file against the versions it was written for; overlapping ranges are an error. */
export function expand(file: Compressed, versions: Array<{ key: string; version: VersionNumber }>, fileName: string): Uncompressed {
  const out: Uncompressed = new Map();
  for (const [rangeKey, data] of Object.entries(file)) {
    let r: VersionRange;
    try {
      r = parseRange(rangeKey);
    } catch (err) {
      throw new Error(`${fileName}: ${(err as Error).message}`);
    }
    for (const { key, version } of versions) {
      if (!inRange(version, r)) continue;
      let entries = out.get(key);
      if (!entries) out.set(key, (entries = new Map()));
      for (const [name, value] of Object.entries(data)) {
        if (entries.has(name)) throw new Error(`${fileName}: overlapping ranges for ${name} at version ${key}`);
        entries.set(name, value);
      }
    }
  }
  return out;
}

const valueKey = (v: EntryValue) => JSON.stringify(v);

/** Compresses version → entries against the package's full version list. */
export function compress(data: Uncompressed, pool: VersionNumber[], parse: (key: string) => VersionNumber): Compressed {
  const inverted = new Map<string, { name: string; value: EntryValue; versions: VersionNumber[] }>();
  for (const [versionKey, entries] of data) {
    for (const [name, value] of entries) {
      const id = `${name}\u0000${valueKey(value)}`;
      let slot = inverted.get(id);
      if (!slot) inverted.set(id, (slot = { name, value, versions: [] }));
      slot.versions.push(parse(versionKey));
    }
  }
  const out: Compressed = {};
  for (const { name, value, versions } of inverted.values()) {
    for (const r of compressVersions(pool, versions)) {
      (out[formatRange(r)] ??= {})[name] = value;
    }
  }
  return out;
}
