import { createHash, type KeyObject } from "node:crypto";
import { readLockFile, type LockedPackage } from "../hex/lock-files.js";
import type { Package } from "../hex/messages.js";
import { openNames, openPackage, openVersions } from "../hex/registry.js";
import { parsePublicKey, samePublicKey, spkiPem } from "../hex/signing.js";
import { MAX_TARBALL_BYTES, readHexTarball } from "../hex/tarball.js";
import type { HttpAuth } from "../net/http-auth.js";
import { putOnce } from "../store/put-once.js";
import type { Store } from "../store/store.js";
import { fetchBytes, joinUrl, type MirrorFetchOptions } from "./fetch.js";
import type { MirrorFailure } from "./julia.js";
import { hexRecordKey, mergeBy, readRecord, writeRecord, type HexMirrorRecord } from "./record.js";

export interface HexMirrorOptions {
  locks: Array<{ file: string; text: string }>;
  /** The repository name: the store's repos/<repo>/, the name the upstream signs with, and mix.lock's repo field. */
  repo: string;
  /** The repository's base URL (https://repo.hex.pm). */
  upstream: string;
  /** The upstream's public key (PEM): every signed resource must verify with it. */
  publicKeyPem: string;
  store: Store;
  auth?: HttpAuth;
  fetch?: typeof fetch;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface HexMirrorReport {
  written: string[];
  held: number;
  notes: string[];
  failed: MirrorFailure[];
}

const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function readAll(store: Store, key: string, limit: number): Promise<Buffer | null> {
  const obj = await store.get(key);
  if (!obj) return null;
  if (obj.size > limit) {
    obj.body.destroy();
    throw new Error(`${key} in ${store.description} is over ${limit} bytes`);
  }
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * Mirrors the Hex packages lock files pin from one repository, as the upstream signed them:
 * `packages/<name>` verified with the upstream's key, each tarball's SHA-256 checked against
 * the outer checksum in that signed resource and against the lock, tarballs stored first, then
 * `packages/<name>`, then the upstream's `names` and `versions` unchanged, last. Clients verify
 * with the upstream's own key; a package outside the locks is simply absent (404).
 */
export async function mirrorHex(options: HexMirrorOptions): Promise<HexMirrorReport> {
  const { store, repo } = options;
  const log = options.log ?? (() => undefined);
  const key: KeyObject = parsePublicKey(options.publicKeyPem, "--public-key");
  const net: MirrorFetchOptions = { timeoutMs: options.timeoutMs ?? 5 * 60_000, auth: options.auth, fetch: options.fetch };
  const report: HexMirrorReport = { written: [], held: 0, notes: [], failed: [] };
  const prefix = `repos/${repo}`;
  const url = (rel: string) => joinUrl(options.upstream, rel);

  // A repository this store publishes with its own key is not a mirror: refuse before writing.
  const storedKey = await readAll(store, `${prefix}/public_key`, 64 * 1024);
  if (storedKey && !samePublicKey(parsePublicKey(storedKey.toString("utf8"), `${prefix}/public_key in ${store.description}`), key)) {
    throw new Error(`${prefix}/public_key in ${store.description} is another key than --public-key: repository ${repo} is published here, not a mirror of ${options.upstream}; mirror into another --repo`);
  }

  const byName = new Map<string, LockedPackage[]>();
  for (const l of options.locks) {
    const lock = readLockFile(l.text, l.file);
    for (const s of lock.skipped) report.notes.push(`${l.file}: ${s.name} skipped: ${s.reason}`);
    for (const p of lock.packages) {
      if (p.repo !== undefined && p.repo !== repo) {
        report.notes.push(`${l.file}: ${p.name} ${p.version} skipped: from repository ${p.repo}, not ${repo}`);
        continue;
      }
      const list = byName.get(p.name) ?? [];
      if (!list.some((q) => q.version === p.version)) list.push(p);
      byName.set(p.name, list);
    }
  }

  const mirrored: HexMirrorRecord["packages"] = [];
  let changed = false;
  for (const [name, locked] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const packageKey = `${prefix}/packages/${name}`;
    try {
      // The stored signed resource (verified again) if it has every locked version, else the upstream's.
      let bytes = await readAll(store, packageKey, MAX_REGISTRY_BYTES);
      let pkg: Package | null = bytes ? openPackage(bytes, key, repo, name, `${packageKey} in ${store.description}`) : null;
      let fresh = false;
      if (!pkg || !locked.every((l) => pkg!.releases.some((r) => r.version === l.version))) {
        const what = `upstream ${options.upstream} packages/${name}`;
        bytes = await fetchBytes(url(`packages/${name}`), MAX_REGISTRY_BYTES, net);
        if (!bytes) throw new Error(`${what}: not found (404)`);
        pkg = openPackage(bytes, key, repo, name, what);
        fresh = true;
      } else report.held++;
      let allOk = true;
      for (const l of locked) {
        const what = `${name} ${l.version}`;
        try {
          const release = pkg.releases.find((r) => r.version === l.version);
          if (!release) throw new Error(`the upstream's signed packages/${name} has no release ${l.version}`);
          const outer = hex(release.outerChecksum);
          if (l.outerChecksum && l.outerChecksum !== outer) throw new Error(`the lock's outer checksum ${l.outerChecksum} is not the signed ${outer}; refused, not stored`);
          if (!l.outerChecksum && l.innerChecksum && l.innerChecksum !== hex(release.innerChecksum)) {
            throw new Error(`the lock's checksum ${l.innerChecksum} is not the signed inner checksum ${hex(release.innerChecksum)}; refused, not stored`);
          }
          const tarballKey = `${prefix}/tarballs/${name}-${l.version}.tar`;
          if (await store.head(tarballKey)) report.held++;
          else {
            const tarball = await fetchBytes(url(`tarballs/${name}-${l.version}.tar`), MAX_TARBALL_BYTES, net);
            if (!tarball) throw new Error(`upstream tarballs/${name}-${l.version}.tar: not found (404)`);
            const actual = createHash("sha256").update(tarball).digest("hex");
            if (actual !== outer) throw new Error(`upstream tarball's SHA-256 ${actual} is not the outer checksum ${outer} in its signed packages/${name}; refused, not stored`);
            const t = readHexTarball(tarball, `upstream tarballs/${name}-${l.version}.tar`);
            if (t.metadata.name !== name || t.metadata.version !== l.version) throw new Error(`the tarball's metadata says ${t.metadata.name} ${t.metadata.version}`);
            if (hex(t.innerChecksum) !== hex(release.innerChecksum)) throw new Error(`the tarball's inner checksum is not the signed one; refused, not stored`);
            if ((await putOnce(store, tarballKey, tarball, { contentType: "application/octet-stream" })) === "created") {
              report.written.push(tarballKey);
              log(`stored ${tarballKey}`);
              changed = true;
            }
          }
          mirrored.push({ name, version: l.version });
        } catch (err) {
          allOk = false;
          report.failed.push({ what, reason: (err as Error).message });
        }
      }
      // packages/<name> only once every locked version of it is stored: it names them all.
      if (fresh && allOk) {
        await store.put(packageKey, bytes!, { contentType: "application/octet-stream" });
        report.written.push(packageKey);
        changed = true;
      }
    } catch (err) {
      for (const l of locked) report.failed.push({ what: `${name} ${l.version}`, reason: (err as Error).message });
    }
  }

  // names and versions, the upstream's own bytes, last; fetched again only when something changed.
  if (mirrored.length > 0) {
    for (const index of ["names", "versions"] as const) {
      const indexKey = `${prefix}/${index}`;
      if (!changed && (await store.head(indexKey))) {
        report.held++;
        continue;
      }
      try {
        const what = `upstream ${options.upstream} ${index}`;
        const bytes = await fetchBytes(url(index), MAX_REGISTRY_BYTES, net);
        if (!bytes) throw new Error(`${what}: not found (404)`);
        if (index === "names") openNames(bytes, key, repo, what);
        else openVersions(bytes, key, repo, what);
        const current = await readAll(store, indexKey, MAX_REGISTRY_BYTES);
        if (!current || !current.equals(bytes)) {
          await store.put(indexKey, bytes, { contentType: "application/octet-stream" });
          report.written.push(indexKey);
        }
      } catch (err) {
        report.failed.push({ what: `${repo} ${index}`, reason: (err as Error).message });
      }
    }
    if (!storedKey) {
      await store.put(`${prefix}/public_key`, spkiPem(key), { contentType: "application/x-pem-file" });
      report.written.push(`${prefix}/public_key`);
    }
    const recordKey = hexRecordKey(repo);
    const old = await readRecord<HexMirrorRecord>(store, recordKey);
    const next: HexMirrorRecord = { repo, upstream: options.upstream, packages: mergeBy(old?.packages ?? [], mirrored, (p) => `${p.name}-${p.version}`) };
    if (await writeRecord(store, recordKey, next)) report.written.push(recordKey);
  }
  return report;
}
