// Checks every Hex repository under repos/ as a client would see it: signatures, tarballs, and
// the agreement of names, versions and packages/. Used by `pkgpub verify` next to julia-verify.
import type { KeyObject } from "node:crypto";
import type { Package } from "../hex/messages.js";
import { openNames, openPackage, openVersions, sortReleases } from "../hex/registry.js";
import { parsePublicKey } from "../hex/signing.js";
import { MAX_TARBALL_BYTES, readHexTarball } from "../hex/tarball.js";
import type { Store } from "../store/store.js";
import type { VerifyReport } from "./julia-verify.js";

/** Signed indexes are small; anything far larger is not one of ours. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface HexVerifyReport extends VerifyReport {
  /** The repositories found under repos/ (checked or not). */
  repositories: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The object's bytes, null when absent; refuses to buffer more than `max`. */
async function readBounded(store: Store, key: string, max: number): Promise<Buffer | null> {
  const obj = await store.get(key);
  if (!obj) return null;
  if (obj.size > max) {
    obj.body.destroy();
    throw new Error(`${key}: ${obj.size} bytes, over the ${max}-byte limit`);
  }
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of obj.body) {
    total += (c as Buffer).length;
    if (total > max) {
      obj.body.destroy();
      throw new Error(`${key}: over the ${max}-byte limit`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** Repository names: the first segment under repos/. */
async function listRepositories(store: Store): Promise<string[]> {
  const names = new Set<string>();
  for await (const e of store.list("repos/")) {
    const name = e.key.slice("repos/".length).split("/")[0];
    if (name) names.add(name);
  }
  return [...names].sort();
}

const sameList = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Checks one repository; problems name the key at fault. */
async function verifyRepository(store: Store, repo: string, problems: string[], log: (line: string) => void): Promise<number> {
  const prefix = `repos/${repo}`;
  let checked = 0;
  const read = async (key: string, max = MAX_INDEX_BYTES): Promise<Buffer | null> => {
    try {
      return await readBounded(store, key, max);
    } catch (err) {
      problems.push(`${key}: unreadable: ${(err as Error).message}`);
      return null;
    }
  };
  /** Runs a check, turning a thrown error into a problem; undefined when it failed. */
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };

  const pem = await read(`${prefix}/public_key`);
  checked++;
  if (!pem) {
    problems.push(`${prefix}/public_key: missing, so no signature in repository ${repo} can be checked (clients need it for mix hex.repo add / rebar3 repos)`);
    return checked;
  }
  const key: KeyObject | undefined = attempt(() => parsePublicKey(pem.toString("utf8"), `${prefix}/public_key`));
  if (!key) return checked;

  const packageNames: string[] = [];
  for await (const e of store.list(`${prefix}/packages/`)) {
    const name = e.key.slice(`${prefix}/packages/`.length);
    if (!name.includes("/")) packageNames.push(name);
  }

  const namesBytes = await read(`${prefix}/names`);
  const versionsBytes = await read(`${prefix}/versions`);
  checked += 2;
  if (!namesBytes) problems.push(`${prefix}/names: missing (clients list packages from it)`);
  if (!versionsBytes) problems.push(`${prefix}/versions: missing (clients resolve versions from it)`);
  const names = namesBytes ? attempt(() => openNames(namesBytes, key, repo, `${prefix}/names`)) : undefined;
  const versions = versionsBytes ? attempt(() => openVersions(versionsBytes, key, repo, `${prefix}/versions`)) : undefined;

  const packages = new Map<string, Package>();
  for (const name of packageNames) {
    const pkgKey = `${prefix}/packages/${name}`;
    const bytes = await read(pkgKey);
    checked++;
    if (!bytes) continue;
    const pkg = attempt(() => openPackage(bytes, key, repo, name, pkgKey));
    if (!pkg) continue;
    packages.set(name, pkg);
    for (const release of pkg.releases) {
      const tarKey = `${prefix}/tarballs/${name}-${release.version}.tar`;
      const what = `${name} ${release.version}, named by ${pkgKey}`;
      checked++;
      const tar = await read(tarKey, MAX_TARBALL_BYTES);
      if (!tar) {
        if (!problems.some((p) => p.startsWith(`${tarKey}:`))) problems.push(`${tarKey}: missing (${what})`);
        continue;
      }
      const tarball = attempt(() => readHexTarball(tar, tarKey));
      if (!tarball) continue;
      if (hex(tarball.outerChecksum) !== hex(release.outerChecksum)) {
        problems.push(`${tarKey}: sha256 is ${hex(tarball.outerChecksum)} but ${pkgKey} signs ${hex(release.outerChecksum)} (${what}): clients will refuse it`);
      } else if (hex(tarball.innerChecksum) !== hex(release.innerChecksum)) {
        problems.push(`${tarKey}: inner checksum is ${hex(tarball.innerChecksum)} but ${pkgKey} signs ${hex(release.innerChecksum)} (${what})`);
      }
      if (tarball.metadata.name !== name || tarball.metadata.version !== release.version) {
        problems.push(`${tarKey}: metadata.config says ${tarball.metadata.name} ${tarball.metadata.version} (${what})`);
      }
    }
  }

  // The three indexes must tell the same story: what names lists, versions resolves, and
  // packages/ holds, release for release.
  if (names) {
    const listed = names.packages.map((p) => p.name);
    for (const n of listed) if (!packageNames.includes(n)) problems.push(`${prefix}/names: lists ${JSON.stringify(n)}, but ${prefix}/packages/${n} is missing`);
    for (const n of packageNames) if (!listed.includes(n)) problems.push(`${prefix}/names: does not list ${n}, which ${prefix}/packages/${n} holds`);
  }
  if (versions) {
    const byName = new Map(versions.packages.map((p) => [p.name, p]));
    for (const v of versions.packages) {
      if (!packageNames.includes(v.name)) {
        problems.push(`${prefix}/versions: lists ${JSON.stringify(v.name)}, but ${prefix}/packages/${v.name} is missing`);
        continue;
      }
      const pkg = packages.get(v.name);
      if (!pkg) continue;
      const releases = sortReleases(pkg.releases);
      const want = releases.map((r) => r.version);
      if (!sameList(v.versions, want)) {
        problems.push(`${prefix}/versions: ${v.name} has versions [${v.versions.join(", ")}], ${prefix}/packages/${v.name} has [${want.join(", ")}]`);
        continue;
      }
      const retired = releases.flatMap((r, i) => (r.retired ? [i] : []));
      if (!sameList([...v.retired].sort((a, b) => a - b), retired)) {
        problems.push(`${prefix}/versions: ${v.name} marks retired [${v.retired.map((i) => v.versions[i] ?? `#${i}`).join(", ")}], ${prefix}/packages/${v.name} retires [${retired.map((i) => want[i]).join(", ")}]`);
      }
    }
    for (const n of packageNames) if (!byName.has(n)) problems.push(`${prefix}/versions: does not list ${n}, which ${prefix}/packages/${n} holds`);
  }
  log(`hex repository ${repo}: ${packageNames.length} packages`);
  return checked;
}

/** Checks every repository under repos/ (none is not a problem here; the caller decides). */
export async function verifyHexStore(store: Store, log: (line: string) => void = () => undefined): Promise<HexVerifyReport> {
  const problems: string[] = [];
  const repositories = await listRepositories(store);
  let checked = 0;
  for (const repo of repositories) checked += await verifyRepository(store, repo, problems, log);
  return { checked, problems, repositories };
}
