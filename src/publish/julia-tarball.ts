import { treeHashOfTar } from "../julia/tar-tree-hash.js";
import { canonicalOrder, writeTar, type CanonicalEntry } from "../julia/tar-writer.js";
import type { TreeHashRules } from "../julia/tree-model.js";
import type { GitRepository, TreeListingEntry } from "../git/repository.js";
import { DEFAULT_GZIP_LEVEL, gunzipFile, gzipToFile, gzipToFileChecked } from "./gzip-file.js";

/**
 * Builds the gzip tarball of a git tree from git objects (never `git archive` or a checkout,
 * whose .gitattributes and filters change content) into `file`.
 */
export async function buildTreeTarball(
  repo: GitRepository,
  tree: string,
  file: string,
  listing?: TreeListingEntry[],
  /** Verify the tree hash, by this rule, from the compressed bytes as they are written. */
  verifyRules?: TreeHashRules,
  gzipLevel = DEFAULT_GZIP_LEVEL,
): Promise<number> {
  const entries: CanonicalEntry[] = [];
  const blobOf = new Map<string, string>();
  for (const e of listing ?? (await repo.lsTree(tree))) {
    switch (e.mode) {
      case "040000":
        entries.push({ type: "directory", path: e.path });
        break;
      case "100644":
      case "100755":
        entries.push({ type: "file", path: e.path, executable: e.mode === "100755", size: e.size });
        blobOf.set(e.path, e.hash);
        break;
      case "120000": {
        const target = (await repo.readBlob(e.hash)).toString("utf8");
        entries.push({ type: "symlink", path: e.path, target });
        break;
      }
      case "160000":
        throw new Error(`${e.path} is a git submodule, which a tarball cannot hold`);
      default:
        throw new Error(`${e.path} has git mode ${e.mode}, which a tarball cannot hold`);
    }
  }
  const ordered = canonicalOrder(entries);
  const objects = repo.sequence(ordered.flatMap((e) => (e.type === "file" ? [blobOf.get(e.path)!] : [])));
  try {
    const tar = writeTar(ordered, (entry) => objects.next(blobOf.get(entry.path)!));
    if (!verifyRules) return await gzipToFile(tar, file, gzipLevel);
    return await gzipToFileChecked(tar, file, async (bytes) => {
      const actual = await treeHashOfTar(bytes, verifyRules);
      if (actual !== tree) throw new Error(`tarball tree hash ${actual} does not match ${tree}`);
    }, gzipLevel);
  } finally {
    objects.close();
  }
}

/** Re-reads a gzip tarball and checks its tree hash by the rule Pkg applies to that kind. */
export async function verifyTarball(file: string, expected: string, rules: TreeHashRules): Promise<void> {
  const actual = await treeHashOfTar(gunzipFile(file), rules);
  if (actual !== expected) throw new Error(`tarball tree hash ${actual} does not match ${expected}`);
}
