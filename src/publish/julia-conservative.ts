// Moves the conservative listing (`registries.conservative`, PkgServer's conservative flavour)
// to a registry commit only once every version it names, with its artifacts, is in the store:
// a client that asks for it never meets a version that failed to build.

import type { GitRepository } from "../git/repository.js";
import type { Store } from "../store/store.js";
import { scanRegistry, type Scan } from "./julia-scan.js";
import { CONSERVATIVE_KEY, moveRegistryPointer, readPublishedTrees, type PointerOutcome } from "./registries-pointer.js";

export type ConservativeOutcome = PointerOutcome | "held-back";

export interface ConservativeInput {
  store: Store;
  registry: GitRepository;
  uuid: string;
  tree: string;
  commit: string;
  force: boolean;
  /** The publish's own scan, and whether any version of it failed (scan or build). */
  scan: Scan;
  anyFailed: boolean;
  log: (line: string) => void;
}

/**
 * The commit is certified when nothing failed and the versions looked at cover everything that
 * changed since the tree the conservative listing names: the publish's scan does when it was
 * full or compared against that same tree; otherwise a second scan from it (as cheap as the
 * change since then) must find nothing missing. A stored package implies its artifacts.
 */
export async function moveConservativePointer(input: ConservativeInput): Promise<ConservativeOutcome> {
  const { store, registry, uuid, tree, commit, scan, log } = input;
  if (input.anyFailed) return "held-back";
  const current = (await readPublishedTrees(store, CONSERVATIVE_KEY)).get(uuid);
  if (current === tree) return "unchanged";
  const covered = scan.report.mode === "full" || (current !== undefined && scan.report.since === current);
  if (!covered) {
    const check = await scanRegistry(registry, tree, commit, store, false, () => undefined, CONSERVATIVE_KEY);
    const missing = check.work.reduce((n, w) => n + w.versions.length, 0);
    if (missing > 0 || check.failed.length > 0) {
      const first = check.work[0] ? `${check.work[0].info.name} v${check.work[0].versions[0]!.version}` : check.failed[0]!.package;
      log(`${CONSERVATIVE_KEY} left as it was: ${missing + check.failed.length} versions of this commit are not in the store (${first} first)`);
      return "held-back";
    }
  }
  return moveRegistryPointer(store, uuid, tree, registry, commit, input.force, 1000, CONSERVATIVE_KEY);
}
