import { formatRegistries, parseRegistries } from "../julia/registry-toml.js";
import type { GitRepository } from "../git/repository.js";
import { ConditionalWriteUnsupportedError, PreconditionFailedError, type Store } from "../store/store.js";

export const REGISTRIES_KEY = "registries";
/**
 * The conservative flavour (PkgServer's /registries.conservative): per registry, the newest
 * commit whose every version and artifact is in the store. `registries` is the eager one.
 */
export const CONSERVATIVE_KEY = "registries.conservative";

export type PointerOutcome = "moved" | "unchanged" | "kept-newer";

async function readText(store: Store, key: string): Promise<{ text: string; etag: string } | null> {
  const obj = await store.get(key);
  if (!obj) return null;
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  const bytes = Buffer.concat(parts);
  // A short read would drop other registries' lines from the rewritten pointer.
  if (bytes.length !== obj.size) throw new Error(`${key} in ${store.description}: read ${bytes.length} of its ${obj.size} bytes`);
  return { text: bytes.toString("utf8"), etag: obj.etag };
}

/** The tree `registries` (or another listing) names for each registry uuid (empty when there is no such object). */
export async function readPublishedTrees(store: Store, key = REGISTRIES_KEY): Promise<Map<string, string>> {
  return parseRegistries((await readText(store, key))?.text ?? "");
}

/**
 * Points `registries` at a registry tree, never backwards: the tree the store already
 * publishes must be that of the commit or one of its ancestors, else the store keeps it
 * (another publisher got a newer commit there first). Other registries' lines are kept.
 */
export async function moveRegistryPointer(
  store: Store,
  uuid: string,
  tree: string,
  repo: GitRepository,
  commit: string,
  force: boolean,
  /** How long to wait before the second read-back on stores without conditional writes. */
  settleMs = 1000,
  key = REGISTRIES_KEY,
): Promise<PointerOutcome> {
  let ancestors: Set<string> | undefined;
  return setRegistryLine(
    store,
    uuid,
    tree,
    async (published) => {
      if (force) return "replace";
      ancestors ??= new Set(await repo.ancestorTrees(commit));
      if (ancestors.has(published)) return "replace";
      if ((await repo.allTrees()).has(published)) return "keep";
      throw new Error(
        `the store's ${key} names registry tree ${published} for ${uuid}, which is not in the history of ${repo.display}; ` +
          "refusing to replace it (use --force if the registry's history was rewritten on purpose)",
      );
    },
    settleMs,
    key,
  );
}

/**
 * Sets the `registries` line of one uuid, keeping every other line. When the store already
 * names another tree for it, `decide` says whether to replace it or keep it (or throws).
 * Compare-and-swap on the object's ETag where the store supports it.
 */
export async function setRegistryLine(
  store: Store,
  uuid: string,
  tree: string,
  decide: (published: string) => Promise<"replace" | "keep">,
  settleMs = 1000,
  key = REGISTRIES_KEY,
): Promise<PointerOutcome> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await readText(store, key);
    const lines = parseRegistries(current?.text ?? "");
    const published = lines.get(uuid);
    if (published === tree) return "unchanged";
    if (published !== undefined && (await decide(published)) === "keep") return "kept-newer";
    lines.set(uuid, tree);
    const body = formatRegistries(lines);
    try {
      await store.put(key, body, {
        contentType: "text/plain",
        ...(current ? { ifMatch: current.etag } : { ifNoneMatch: "*" as const }),
      });
      return "moved";
    } catch (err) {
      if (err instanceof PreconditionFailedError) continue;
      if (!(err instanceof ConditionalWriteUnsupportedError)) throw err;
    }
    // No compare-and-swap on this store: write, then read back now and once more after a
    // pause, so that a slower publisher of an older commit that overwrote us is seen and
    // undone on the next pass (its tree is then an ancestor of ours). Serialise publishers
    // of one registry (the App's queue, a workflow concurrency group) to close the window.
    await store.put(key, body, { contentType: "text/plain" });
    if (parseRegistries((await readText(store, key))?.text ?? "").get(uuid) !== tree) continue;
    await new Promise((r) => setTimeout(r, settleMs));
    if (parseRegistries((await readText(store, key))?.text ?? "").get(uuid) === tree) return "moved";
  }
  throw new Error(`could not update ${key}: it kept changing under concurrent publishers`);
}
