/**
 * Choosing artifacts by platform (`--platform x86_64-linux-gnu`): a triplet is read into the
 * keys Artifacts.toml uses (arch, os, libc, call_abi) and an entry is kept when every key both
 * name agrees. Entries without platform keys are for every platform. The finer keys
 * (libgfortran_version, cxxstring_abi, julia_version) are not narrowed: every variant is kept.
 */

export interface PlatformKeys {
  arch: string;
  os: string;
  libc?: string;
  call_abi?: string;
}

export class PlatformError extends Error {
  override name = "PlatformError";
}

export function parseTriplet(triplet: string): PlatformKeys {
  const t = triplet.trim().toLowerCase();
  const m = /^([a-z0-9_]+)-(.+)$/.exec(t);
  if (!m) throw new PlatformError(`--platform ${JSON.stringify(triplet)} is not a triplet like x86_64-linux-gnu`);
  const arch = m[1]!;
  const rest = m[2]!;
  if (/^(apple-)?darwin/.test(rest) || rest === "macos") return { arch, os: "macos" };
  if (/^(w64-)?(mingw32|windows)/.test(rest)) return { arch, os: "windows" };
  if (/^(unknown-)?freebsd/.test(rest)) return { arch, os: "freebsd" };
  const linux = /^(?:unknown-)?linux-(gnu|musl)(eabihf)?/.exec(rest);
  if (linux) return { arch, os: "linux", libc: linux[1]!, ...(linux[2] ? { call_abi: linux[2] } : {}) };
  throw new PlatformError(`--platform ${JSON.stringify(triplet)}: unknown operating system part ${JSON.stringify(rest)}`);
}

export function platformMatches(entry: Record<string, string>, wanted: PlatformKeys): boolean {
  for (const k of ["arch", "os", "libc", "call_abi"] as const) {
    const a = entry[k];
    const b = wanted[k];
    if (a !== undefined && b !== undefined && a.toLowerCase() !== b) return false;
  }
  return true;
}
