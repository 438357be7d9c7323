import type { KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { planPackage, type BuildTool } from "../hex/plan-source.js";
import { releaseOf, sameBytes, withRelease, withRetirement } from "../hex/registry.js";
import type { Retirement } from "../hex/messages.js";
import { publicKeyOf } from "../hex/signing.js";
import { SourceError } from "../hex/source.js";
import { buildHexTarball, MAX_TARBALL_BYTES, readHexTarball, type HexTarball } from "../hex/tarball.js";
import type { Store } from "../store/store.js";
import { openTaggedTree } from "./hex-git-source.js";
import { HexInvalidError, HexNotFoundError } from "./hex-errors.js";
import { HexRepository } from "./hex-repository.js";

/** A tarball file, a git source to build from, or tarball bytes already in memory (the HTTP API's upload). */
export type HexInput = { tarball: string } | { source: string; ref?: string; buildTool?: BuildTool } | { bytes: Uint8Array; origin: string };

export interface HexPublishOptions {
  store: Store;
  repo: string;
  privateKey: KeyObject;
  input: HexInput;
  replace?: boolean;
  /** The package name the caller addressed (the API's URL): the tarball must be that package. */
  expectName?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: (line: string) => void;
}

export interface HexPublishResult {
  name: string;
  version: string;
  tarballKey: string;
  tarball: "created" | "unchanged" | "replaced";
  outerChecksum: string;
  /** When tarball is "replaced": the checksum the release had before (gone for every lock file naming it). */
  replacedChecksum?: string;
  publicKeyWritten: boolean;
}

/** Reads and checks the input into tarball bytes; nothing is written yet. */
export async function loadHexTarball(input: HexInput, env: NodeJS.ProcessEnv = process.env): Promise<{ bytes: Uint8Array; tarball: HexTarball; origin: string; notes: string[] }> {
  if ("bytes" in input) return { bytes: input.bytes, tarball: readHexTarball(input.bytes, input.origin), origin: input.origin, notes: [] };
  if ("tarball" in input) {
    let size: number;
    try {
      size = (await stat(input.tarball)).size;
    } catch {
      throw new Error(`--tarball ${input.tarball}: no such file`);
    }
    if (size > MAX_TARBALL_BYTES) throw new Error(`--tarball ${input.tarball}: ${size} bytes is over the 16 MiB limit of Hex clients`);
    const bytes = new Uint8Array(await readFile(input.tarball));
    return { bytes, tarball: readHexTarball(bytes, input.tarball), origin: input.tarball, notes: [] };
  }
  const tagged = await openTaggedTree(input.source, input.ref, env);
  try {
    const { tree, tag } = tagged;
    const plan = await planPackage(tree, tag, input.buildTool);
    const built = buildHexTarball(plan.metadata, plan.files, plan.layout);
    return { bytes: built.bytes, tarball: built.tarball, origin: `${input.source} at ${tag}`, notes: plan.notes ?? [] };
  } catch (err) {
    if (err instanceof SourceError) throw new SourceError(`${input.source} at ${tagged.tag}: ${err.message}`);
    throw err;
  } finally {
    tagged.close();
  }
}

/**
 * Publishes one release: the tarball (create-only), then packages/<name>, then versions and
 * names, then public_key if the repository has none. Everything that can be refused is checked
 * before the first write.
 */
export async function publishHex(opts: HexPublishOptions): Promise<HexPublishResult> {
  const log = opts.log ?? (() => undefined);
  const repo = new HexRepository(opts.store, opts.repo, opts.privateKey, publicKeyOf(opts.privateKey), log);
  const { bytes, tarball, notes } = await loadHexTarball(opts.input, opts.env);
  for (const n of notes) log(n);
  const { name, version } = tarball.metadata;
  if (opts.expectName !== undefined && name !== opts.expectName) {
    throw new HexInvalidError(`metadata does not match package name (the tarball is ${JSON.stringify(name)}, the request names ${JSON.stringify(opts.expectName)})`, "name");
  }
  await repo.checkKey(name);
  const previous = await repo.checkTarballReplaceable(bytes, name, version, tarball.outerChecksum, opts.replace ?? false);

  const outcome = await repo.putTarball(bytes, name, version, tarball.outerChecksum, opts.replace ?? false);
  const release = releaseOf(tarball, opts.repo);
  await repo.updatePackage(
    name,
    (pkg) => withRelease(pkg, release),
    (pkg) => pkg.releases.some((r) => r.version === version && sameBytes(r.outerChecksum, release.outerChecksum)),
  );
  await repo.updateIndexes([name]);
  const publicKeyWritten = await repo.ensurePublicKey();
  return {
    name,
    version,
    tarballKey: repo.tarballKey(name, version),
    tarball: outcome,
    outerChecksum: Buffer.from(tarball.outerChecksum).toString("hex"),
    ...(outcome === "replaced" && previous !== null ? { replacedChecksum: previous } : {}),
    publicKeyWritten,
  };
}

export interface HexRetireOptions {
  store: Store;
  repo: string;
  privateKey: KeyObject;
  name: string;
  version: string;
  /** undefined clears the retirement. */
  retirement: Retirement | undefined;
  log?: (line: string) => void;
}

export async function retireHex(opts: HexRetireOptions): Promise<void> {
  const repo = new HexRepository(opts.store, opts.repo, opts.privateKey, publicKeyOf(opts.privateKey), opts.log);
  await repo.checkKey();
  const current = await repo.readPackage(opts.name);
  if (!current) throw new HexNotFoundError(`repository ${opts.repo} has no package ${JSON.stringify(opts.name)}`);
  if (!current.pkg.releases.some((r) => r.version === opts.version)) {
    throw new HexNotFoundError(`${opts.name} has no release ${JSON.stringify(opts.version)} in repository ${opts.repo} (it has ${current.pkg.releases.map((r) => r.version).join(", ")})`);
  }
  const same = (a: Retirement | undefined, b: Retirement | undefined) => a?.reason === b?.reason && (a?.message ?? "") === (b?.message ?? "");
  await repo.updatePackage(
    opts.name,
    (pkg) => withRetirement(pkg, opts.version, opts.retirement),
    (pkg) => same(pkg.releases.find((r) => r.version === opts.version)?.retired, opts.retirement),
  );
  await repo.updateIndexes([opts.name]);
}
