import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GitRepository, isRemote } from "../git/repository.js";
import { readArtifactsToml, type PackageInfo, type VersionInfo } from "../julia/registry-toml.js";
import { DEFAULT_TAR_LIMITS } from "../julia/tar-reader.js";
import { PACKAGE_RULES, REGISTRY_RULES } from "../julia/tree-model.js";
import { putOnce } from "../store/put-once.js";
import { ConditionalWriteUnsupportedError, PreconditionFailedError, type Store } from "../store/store.js";
import { artifactNetworkFromEnv } from "./artifact-network.js";
import { mirrorArtifact, type ArtifactLimits } from "./julia-artifact.js";
import { REGISTRY_GZIP_LEVEL } from "./gzip-file.js";
import { buildTreeTarball } from "./julia-tarball.js";
import { scanRegistry, type PackageWork, type ScanReport } from "./julia-scan.js";
import { moveRegistryPointer, type PointerOutcome } from "./registries-pointer.js";
import { moveConservativePointer, type ConservativeOutcome } from "./julia-conservative.js";

export interface JuliaPublishOptions {
  /** Path, file:// or git URL of the registry repository. */
  registry: string;
  /** Branch to publish (default: the repository's default branch). */
  branch?: string;
  /** A commit (or tag) to publish instead of a branch head. */
  ref?: string;
  store: Store;
  log?: (line: string) => void;
  /** Environment for git (credentials helpers, PKGPUB_GIT_CACHE_DIR). */
  gitEnv?: NodeJS.ProcessEnv;
  cacheDir?: string;
  /** Replace a published registry pointer that is not an ancestor of this commit. */
  force?: boolean;
  /** Package repositories worked on at once. */
  concurrency?: number;
  limits?: Partial<ArtifactLimits>;
  /**
   * Refuse package repositories that are paths on this machine. A server publishing registries
   * it does not control sets this, so a Package.toml cannot point it at a clone kept for
   * someone else.
   */
  remoteRepositoriesOnly?: boolean;
  /**
   * Look at every package of the registry, not only those whose files changed since the tree
   * the store publishes: rebuilds what the store lost, retries versions that failed before.
   */
  full?: boolean;
}

export interface VersionFailure {
  package: string;
  version?: string;
  reason: string;
}

export interface JuliaPublishReport {
  /** `pointer` is the eager `registries` line; `conservative` that of `registries.conservative`. */
  registry: { name: string; uuid: string; commit: string; tree: string; pointer: PointerOutcome; conservative: ConservativeOutcome };
  /** Keys written by this run. */
  built: string[];
  /** Versions looked at and already in the store. */
  skipped: number;
  failed: VersionFailure[];
  /** Which packages were looked at, and what that cost. */
  scan: ScanReport;
}

const DEFAULT_LIMITS: ArtifactLimits = {
  maxBytes: 4 * 2 ** 30,
  timeoutMs: 10 * 60_000,
  tar: DEFAULT_TAR_LIMITS,
};

/**
 * Publishes a registry commit: every listed version's package tarball (with its artifacts
 * first), then the registry tarball, then the `registries` pointer. What the store holds is
 * not rebuilt; a version that fails is reported and skipped, the rest still published.
 * Only the packages whose files changed since the tree the store publishes are looked at,
 * unless `full` or that tree is unknown (see julia-scan.ts).
 */
export async function publishJuliaRegistry(options: JuliaPublishOptions): Promise<JuliaPublishReport> {
  const { store } = options;
  const log = options.log ?? (() => undefined);
  // The App and the Action pass no network settings: public addresses only, with the
  // PKGPUB_ARTIFACT_* settings of their environment (the CLI passes its own).
  const limits: ArtifactLimits = { ...DEFAULT_LIMITS, network: options.limits?.network ?? artifactNetworkFromEnv(process.env, true), ...options.limits };
  const openOpts = { cacheDir: options.cacheDir, env: options.gitEnv };
  const workDir = path.join(os.tmpdir(), `pkgpub-${randomBytes(6).toString("hex")}`);
  await mkdir(workDir, { recursive: true });
  const registry = await GitRepository.open(options.registry, { ...openOpts, refresh: true });
  const built: string[] = [];
  const failed: VersionFailure[] = [];
  // Packages of one monorepo share one clone and one cat-file process.
  const repos = new Map<string, Promise<GitRepository>>();
  try {
    const commit = await registry.resolveCommit(options.ref ?? options.branch);
    const tree = await registry.treeOf(commit);
    const scan = await scanRegistry(registry, tree, commit, store, options.full ?? false, log);
    const info = { name: scan.name, uuid: scan.uuid };
    const { work, skipped } = scan;
    failed.push(...scan.failed);
    const total = work.reduce((n, w) => n + w.versions.length, 0);
    log(`${skipped} versions already in the store, ${total} to build`);

    let done = 0;
    let lastProgress = Date.now();
    const progress = (): void => {
      done++;
      if (Date.now() - lastProgress > 5000 && done < total) {
        lastProgress = Date.now();
        log(`  [${done}/${total}] versions processed`);
      }
    };
    const queue = [...work];
    // A version the store failed to take (not one whose content is bad) is missing only for now:
    // a pointer naming it would break invariant 2, so the publish stops before the pointer.
    const storeErrors: string[] = [];
    const watched = watchStoreErrors(store, storeErrors);
    const worker = async (): Promise<void> => {
      for (let w = queue.shift(); w; w = queue.shift()) {
        await publishPackage(w, { ...options, store: watched, limits, workDir, openOpts, log, built, failed, progress, repos });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
    if (storeErrors.length > 0) {
      throw new Error(`the store failed while versions were published (${storeErrors[0]}); registries was left as it was: run the publish again to finish`);
    }

    const registryKey = `registry/${info.uuid}/${tree}`;
    if (!(await store.head(registryKey))) {
      const file = path.join(workDir, "registry.tar.gz");
      await buildTreeTarball(registry, tree, file, undefined, REGISTRY_RULES, REGISTRY_GZIP_LEVEL);
      if ((await putOnce(store, registryKey, { path: file }, { contentType: "application/x-gzip" })) === "created") {
        built.push(registryKey);
        log(`built ${registryKey}`);
      }
    }
    const pointer = await moveRegistryPointer(store, info.uuid, tree, registry, commit, options.force ?? false);
    if (pointer === "moved") built.push("registries");
    if (pointer === "kept-newer") log(`registries already names a newer commit's tree for ${info.name}; left as it is`);
    // After the eager pointer: the conservative one lags behind it, never runs ahead.
    const conservative = await moveConservativePointer({ store, registry, uuid: info.uuid, tree, commit, force: options.force ?? false, scan, anyFailed: failed.length > 0, log });
    if (conservative === "moved") built.push("registries.conservative");
    if (conservative === "held-back" && failed.length > 0) log(`registries.conservative left as it was: ${failed.length} versions failed`);
    return { registry: { name: info.name, uuid: info.uuid, commit, tree, pointer, conservative }, built, skipped, failed, scan: scan.report };
  } finally {
    registry.close();
    for (const r of repos.values()) r.then((repo) => repo.close(), () => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

interface PackageContext {
  store: Store;
  limits: ArtifactLimits;
  workDir: string;
  openOpts: { cacheDir?: string; env?: NodeJS.ProcessEnv };
  log: (line: string) => void;
  built: string[];
  failed: VersionFailure[];
  progress: () => void;
  repos: Map<string, Promise<GitRepository>>;
  remoteRepositoriesOnly?: boolean;
}

async function publishPackage(work: PackageWork, ctx: PackageContext): Promise<void> {
  const { info } = work;
  let repo: GitRepository;
  try {
    if (ctx.remoteRepositoriesOnly && !isRemote(info.repo)) {
      throw new Error(`repo ${JSON.stringify(info.repo)} is a local path; only git URLs are allowed here`);
    }
    let opening = ctx.repos.get(info.repo);
    if (!opening) {
      opening = GitRepository.open(info.repo, ctx.openOpts);
      ctx.repos.set(info.repo, opening);
    }
    repo = await opening;
  } catch (err) {
    for (const v of work.versions) {
      ctx.failed.push({ package: info.name, version: v.version, reason: (err as Error).message });
      ctx.progress();
    }
    return;
  }
  for (const v of work.versions) {
    try {
      const key = await publishVersion(repo, info, v, ctx);
      if (key) {
        ctx.built.push(key);
        ctx.log(`built ${info.name} v${v.version} -> ${key}`);
      }
    } catch (err) {
      ctx.failed.push({ package: info.name, version: v.version, reason: (err as Error).message });
    }
    ctx.progress();
  }
}

/** Artifacts first, then the package tarball: a stored package implies its artifacts are stored. */
async function publishVersion(repo: GitRepository, info: PackageInfo, v: VersionInfo, ctx: PackageContext): Promise<string | null> {
  // Listing the tree is the existence check too; only a miss costs the type check and a fetch.
  const listing = await repo.lsTree(v.treeHash).catch(async (err) => {
    if (!(await repo.ensureObject(v.treeHash, "tree"))) {
      throw new Error(`tree ${v.treeHash} is not in ${repo.display}${info.subdir ? ` (subdir ${info.subdir})` : ""}`);
    }
    if (await repo.hasObject(v.treeHash, "tree")) return repo.lsTree(v.treeHash);
    throw err;
  });
  for (const name of ["JuliaArtifacts.toml", "Artifacts.toml"]) {
    const entry = listing.find((e) => e.path === name && e.type === "blob");
    if (!entry) continue;
    const text = await repo.readBlob(entry.hash);
    for (const artifact of readArtifactsToml(text.toString("utf8"), `${info.name} v${v.version} ${name}`)) {
      const outcome = await mirrorArtifact(artifact, ctx.store, ctx.workDir, ctx.limits);
      if (outcome === "created") {
        ctx.built.push(`artifact/${artifact.treeHash}`);
        ctx.log(`built artifact ${artifact.label} -> artifact/${artifact.treeHash}`);
      }
    }
  }
  const key = `package/${info.uuid}/${v.treeHash}`;
  const file = path.join(ctx.workDir, `package-${v.treeHash}-${randomBytes(4).toString("hex")}.tar.gz`);
  try {
    await buildTreeTarball(repo, v.treeHash, file, listing, PACKAGE_RULES);
    return (await putOnce(ctx.store, key, { path: file }, { contentType: "application/x-gzip" })) === "created" ? key : null;
  } finally {
    await rm(file, { force: true });
  }
}

/** The store, noting its own errors (not the condition failures putOnce expects and handles). */
function watchStoreErrors(store: Store, errors: string[]): Store {
  const note = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      if (!(err instanceof PreconditionFailedError) && !(err instanceof ConditionalWriteUnsupportedError)) errors.push((err as Error).message);
      throw err;
    });
  return {
    description: store.description,
    head: (key) => note(store.head(key)),
    get: (key, options) => note(store.get(key, options)),
    put: (key, source, options) => note(store.put(key, source, options)),
    delete: (key) => note(store.delete(key)),
    list: (prefix) => store.list(prefix),
  };
}
