/**
 * Docs for a published Hex release: checked (src/hex/docs-tarball.ts) before anything is
 * written, stored at repos/<repo>/docs/<name>-<version>.tar.gz where `mix hex.docs fetch`
 * looks. Docs are not part of the signed registry and may be replaced or removed at any time
 * (as on hex.pm); one put of the whole object, so readers see the old docs or the new.
 */
import type { KeyObject } from "node:crypto";
import { readDocsTarball } from "../hex/docs-tarball.js";
import { publicKeyOf } from "../hex/signing.js";
import type { Store } from "../store/store.js";
import { HexNotFoundError } from "./hex-errors.js";
import { HexRepository } from "./hex-repository.js";

export interface HexDocsOptions {
  store: Store;
  repo: string;
  privateKey: KeyObject;
  name: string;
  version: string;
  log?: (line: string) => void;
}

export async function publishHexDocs(opts: HexDocsOptions & { bytes: Uint8Array }): Promise<{ key: string; files: number; replaced: boolean }> {
  const repo = new HexRepository(opts.store, opts.repo, opts.privateKey, publicKeyOf(opts.privateKey), opts.log);
  const docs = readDocsTarball(opts.bytes, `docs for ${opts.name} ${opts.version}`);
  await requireRelease(repo, opts.name, opts.version);
  const key = repo.docsKey(opts.name, opts.version);
  const replaced = (await opts.store.head(key)) !== null;
  await opts.store.put(key, opts.bytes, { contentType: "application/gzip" });
  return { key, files: docs.files.size, replaced };
}

export async function revertHexDocs(opts: HexDocsOptions): Promise<void> {
  const repo = new HexRepository(opts.store, opts.repo, opts.privateKey, publicKeyOf(opts.privateKey), opts.log);
  const key = repo.docsKey(opts.name, opts.version);
  if (!(await opts.store.head(key))) throw new HexNotFoundError(`${opts.name} ${opts.version} has no docs in repository ${opts.repo}`);
  await opts.store.delete(key);
}

async function requireRelease(repo: HexRepository, name: string, version: string): Promise<void> {
  await repo.checkKey();
  const current = await repo.readPackage(name);
  if (!current?.pkg.releases.some((r) => r.version === version)) throw new HexNotFoundError(`repository ${repo.name} has no release ${name} ${version}`);
}
