import type { KeyObject } from "node:crypto";
import { decodeNames, decodePackage, decodeVersions, encodeNames, encodePackage, encodeVersions, type Dependency, type Names, type Package, type Release, type Retirement, type Versions, type VersionsPackage } from "./messages.js";
import type { HexTarball } from "./tarball.js";
import { compareSemVer } from "./semver.js";
import { gzipSigned, openSigned } from "./signing.js";

/** The registry release for a tarball; dependencies in this same repository carry no repository. */
export function releaseOf(tarball: HexTarball, repository: string): Release {
  return {
    version: tarball.metadata.version,
    innerChecksum: tarball.innerChecksum,
    outerChecksum: tarball.outerChecksum,
    dependencies: tarball.metadata.requirements.map((r): Dependency => ({
      package: r.name,
      requirement: r.requirement,
      ...(r.optional ? { optional: true } : {}),
      ...(r.app !== r.name ? { app: r.app } : {}),
      ...(r.repository !== undefined && r.repository !== repository ? { repository: r.repository } : {}),
    })),
  };
}

export function sortReleases(releases: Release[]): Release[] {
  return [...releases].sort((a, b) => compareSemVer(a.version, b.version));
}

/** The package with the release added or (same version) replaced; the old retirement is kept only if the bytes are the same. */
export function withRelease(pkg: Package, release: Release): Package {
  const old = pkg.releases.find((r) => r.version === release.version);
  const keep = old && sameBytes(old.outerChecksum, release.outerChecksum) ? old.retired : undefined;
  const next = { ...release, ...(keep ? { retired: keep } : {}) };
  return { ...pkg, releases: sortReleases([...pkg.releases.filter((r) => r.version !== release.version), next]) };
}

/** The package without that version (a revert); the other releases unchanged. */
export function withoutRelease(pkg: Package, version: string): Package {
  return { ...pkg, releases: pkg.releases.filter((r) => r.version !== version) };
}

export function withRetirement(pkg: Package, version: string, retired: Retirement | undefined): Package {
  if (!pkg.releases.some((r) => r.version === version)) throw new Error(`${pkg.name} has no release ${version}`);
  return {
    ...pkg,
    releases: pkg.releases.map((r) => {
      if (r.version !== version) return r;
      const { retired: _old, ...rest } = r;
      return retired ? { ...rest, retired } : rest;
    }),
  };
}

export function versionsEntry(pkg: Package): VersionsPackage {
  const releases = sortReleases(pkg.releases);
  return {
    name: pkg.name,
    versions: releases.map((r) => r.version),
    retired: releases.flatMap((r, i) => (r.retired ? [i] : [])),
  };
}

/** Versions with the given packages' entries replaced (or added) and the rest kept, sorted by name. */
export function mergeVersions(repository: string, current: VersionsPackage[], updates: VersionsPackage[]): Versions {
  const byName = new Map(current.map((p) => [p.name, p]));
  for (const u of updates) byName.set(u.name, u);
  return { repository, packages: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

export function namesOf(versions: Versions): Names {
  return { repository: versions.repository, packages: versions.packages.map((p) => ({ name: p.name })) };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

// ---- signed resources ----

export const signPackage = (pkg: Package, key: KeyObject) => gzipSigned(encodePackage({ ...pkg, releases: sortReleases(pkg.releases) }), key);
export const signVersions = (v: Versions, key: KeyObject) => gzipSigned(encodeVersions(v), key);
export const signNames = (n: Names, key: KeyObject) => gzipSigned(encodeNames(n), key);

export class RepositoryMismatchError extends Error {
  override name = "RepositoryMismatchError";
}

function checkRepo(actual: string, expected: string, what: string): void {
  if (actual !== expected) throw new RepositoryMismatchError(`${what}: signed for repository ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

export function openPackage(body: Uint8Array, key: KeyObject, repository: string, name: string, what: string): Package {
  const pkg = decodePackage(openSigned(body, key, what), what);
  checkRepo(pkg.repository, repository, what);
  if (pkg.name !== name) throw new RepositoryMismatchError(`${what}: names package ${JSON.stringify(pkg.name)}, expected ${JSON.stringify(name)}`);
  return pkg;
}

export function openVersions(body: Uint8Array, key: KeyObject, repository: string, what: string): Versions {
  const v = decodeVersions(openSigned(body, key, what), what);
  checkRepo(v.repository, repository, what);
  return v;
}

export function openNames(body: Uint8Array, key: KeyObject, repository: string, what: string): Names {
  const n = decodeNames(openSigned(body, key, what), what);
  checkRepo(n.repository, repository, what);
  return n;
}
