import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { openNames, openPackage, openVersions } from "../../../src/hex/registry.js";
import { parsePublicKey } from "../../../src/hex/signing.js";
import { readHexTarball } from "../../../src/hex/tarball.js";
import { publishHex, type HexPublishResult } from "../../../src/publish/hex-publish.js";
import type { Store } from "../../../src/store/store.js";
import { newKeyPem } from "../../hex/support/fixtures.js";
import { simpleTarball } from "../../hex/support/tarballs.js";

export const REPO = "acme";

export interface HexWorld {
  privatePem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyFile: string;
  /** Writes name-version's tarball under the world's directory and returns its path. */
  tarball(name: string, version: string): string;
}

export function makeHexWorld(dir: string): HexWorld {
  const key = newKeyPem();
  const keyFile = path.join(dir, "hex-key.pem");
  writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
  return {
    privatePem: key.privatePem,
    privateKey: createPrivateKey(key.privatePem),
    publicKey: parsePublicKey(key.spkiPem, "test key"),
    keyFile,
    tarball(name, version) {
      const file = path.join(dir, `${name}-${version}.tar`);
      writeFileSync(file, simpleTarball(name, version));
      return file;
    },
  };
}

export function publishHexTarball(world: HexWorld, store: Store, name: string, version: string): Promise<HexPublishResult> {
  return publishHex({ store, repo: REPO, privateKey: world.privateKey, input: { tarball: world.tarball(name, version) } });
}

async function read(store: Store, key: string): Promise<Buffer | null> {
  const obj = await store.get(key);
  return obj ? buffer(obj.body) : null;
}

/** Releases by package, as names, versions and each packages/<name> say (all decoded and signature-checked). */
export interface HexIndexes {
  names: string[];
  versions: Map<string, string[]>;
  packages: Map<string, string[]>;
}

/**
 * Decodes every index of the repository and checks what they name: each name and each
 * versions entry has its packages/<name>, each release there has its tarball, whose outer
 * checksum and inner checksum are right. Returns the problems and what the indexes hold.
 */
export async function hexState(world: HexWorld, store: Store): Promise<{ problems: string[]; indexes: HexIndexes }> {
  const problems: string[] = [];
  const indexes: HexIndexes = { names: [], versions: new Map(), packages: new Map() };
  const p = `repos/${REPO}`;
  const check = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  for await (const e of store.list(`${p}/packages/`)) {
    const name = e.key.slice(`${p}/packages/`.length);
    await check(e.key, async () => {
      const pkg = openPackage((await read(store, e.key))!, world.publicKey, REPO, name, e.key);
      indexes.packages.set(name, pkg.releases.map((r) => r.version));
      for (const r of pkg.releases) {
        const tkey = `${p}/tarballs/${name}-${r.version}.tar`;
        const bytes = await read(store, tkey);
        if (!bytes) throw new Error(`names release ${r.version}, but ${tkey} is missing`);
        const tarball = readHexTarball(bytes, tkey);
        const sha = createHash("sha256").update(bytes).digest();
        if (!sha.equals(Buffer.from(r.outerChecksum))) throw new Error(`${tkey}: sha256 is not the release's outer checksum`);
        if (!Buffer.from(tarball.outerChecksum).equals(sha)) throw new Error(`${tkey}: outer checksum mismatch`);
      }
    });
  }
  const versions = await read(store, `${p}/versions`);
  if (versions) {
    await check(`${p}/versions`, async () => {
      for (const v of openVersions(versions, world.publicKey, REPO, "versions").packages) {
        indexes.versions.set(v.name, v.versions);
        const releases = indexes.packages.get(v.name);
        if (!releases) throw new Error(`names package ${v.name}, which has no (valid) packages/${v.name}`);
        for (const version of v.versions) if (!releases.includes(version)) throw new Error(`names ${v.name} ${version}, which packages/${v.name} lacks`);
      }
    });
  }
  const names = await read(store, `${p}/names`);
  if (names) {
    await check(`${p}/names`, async () => {
      indexes.names = openNames(names, world.publicKey, REPO, "names").packages.map((n) => n.name);
      for (const n of indexes.names) if (!indexes.packages.has(n)) throw new Error(`names ${n}, which has no (valid) packages/${n}`);
    });
  }
  return { problems, indexes };
}

/** Every release of `expected` appears in names, versions and packages. */
export function missingReleases(indexes: HexIndexes, expected: Array<[string, string]>): string[] {
  const out: string[] = [];
  for (const [name, version] of expected) {
    if (!indexes.names.includes(name)) out.push(`${name}: not in names`);
    if (!indexes.versions.get(name)?.includes(version)) out.push(`${name} ${version}: not in versions`);
    if (!indexes.packages.get(name)?.includes(version)) out.push(`${name} ${version}: not in packages/${name}`);
  }
  return out;
}
