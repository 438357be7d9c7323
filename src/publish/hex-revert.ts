/**
 * Reverting a Hex release (`mix hex.publish --revert V`): the release leaves packages/<name>,
 * versions and names first, and only then are its tarball and docs deleted, so no index ever
 * names a missing object. Reverting the last release leaves the package listed with no
 * releases (clients then find no version), which no racing publisher can turn into an index
 * naming a deleted object.
 */
import type { KeyObject } from "node:crypto";
import { withoutRelease } from "../hex/registry.js";
import { publicKeyOf } from "../hex/signing.js";
import type { Store } from "../store/store.js";
import { HexNotFoundError } from "./hex-errors.js";
import { HexRepository } from "./hex-repository.js";

export interface HexRevertOptions {
  store: Store;
  repo: string;
  privateKey: KeyObject;
  name: string;
  version: string;
  log?: (line: string) => void;
}

export interface HexRevertResult {
  /** The checksum the reverted release had (gone for every lock file naming it). */
  outerChecksum: string;
  docsDeleted: boolean;
}

export async function revertHex(opts: HexRevertOptions): Promise<HexRevertResult> {
  const repo = new HexRepository(opts.store, opts.repo, opts.privateKey, publicKeyOf(opts.privateKey), opts.log);
  await repo.checkKey();
  const current = await repo.readPackage(opts.name);
  const release = current?.pkg.releases.find((r) => r.version === opts.version);
  if (!current || !release) throw new HexNotFoundError(`repository ${opts.repo} has no release ${opts.name} ${opts.version}`);
  const unlist = async () => {
    await repo.updatePackage(
      opts.name,
      (pkg) => withoutRelease(pkg, opts.version),
      (pkg) => !pkg.releases.some((r) => r.version === opts.version),
      [opts.version],
    );
    await repo.updateIndexes([opts.name]);
  };
  await unlist();
  await opts.store.delete(repo.tarballKey(opts.name, opts.version));
  const docs = await opts.store.head(repo.docsKey(opts.name, opts.version));
  if (docs) await opts.store.delete(repo.docsKey(opts.name, opts.version));
  // A publisher of another version that read the listing before the delete may have put the
  // release back; unlisting again (a no-op otherwise: equal bytes are not rewritten) undoes that.
  await unlist();
  return { outerChecksum: Buffer.from(release.outerChecksum).toString("hex"), docsDeleted: docs !== null };
}
