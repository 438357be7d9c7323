import { BlobHasher, blobHash } from "./git-object.js";
import { readTar, TarFormatError, type TarLimits, DEFAULT_TAR_LIMITS } from "./tar-reader.js";
import { TreeModel, type TreeHashRules } from "./tree-model.js";

/**
 * The git tree hash of what an uncompressed tar stream would extract to, streaming (file
 * bodies are hashed, never held). Rejects what Pkg's extractor rejects, including members
 * beneath a symlink. Packages and artifacts: PACKAGE_RULES; registries: REGISTRY_RULES.
 */
export async function treeHashOfTar(
  chunks: AsyncIterable<Uint8Array>,
  rules: TreeHashRules,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): Promise<string> {
  return (await scanTar(chunks, rules, { limits })).hash;
}

/** Files up to this size can be captured while hashing (registry TOML files, Artifacts.toml). */
const MAX_CAPTURE_BYTES = 16 << 20;

/**
 * The tree hash, plus the bytes of the regular files `capture` asks for (by their normalised
 * "/"-joined path), read in the same pass.
 */
export async function scanTar(
  chunks: AsyncIterable<Uint8Array>,
  rules: TreeHashRules,
  options: { limits?: TarLimits; capture?: (path: string) => boolean } = {},
): Promise<{ hash: string; files: Map<string, Buffer> }> {
  const limits = options.limits ?? DEFAULT_TAR_LIMITS;
  const files = new Map<string, Buffer>();
  const tree = new TreeModel();
  for await (const { member, body } of readTar(chunks, limits)) {
    const { parts } = member;
    if (tree.underSymlink(parts) || (member.type === "directory" && parts.length > 0 && tree.leafAt(parts)?.kind === "symlink")) {
      throw new TarFormatError(`path with symlink prefix: ${JSON.stringify(member.rawPath)} (possible attack)`, member.offset);
    }
    switch (member.type) {
      case "directory":
        tree.addDirectory(parts);
        break;
      case "symlink":
        tree.addLeaf(parts, { kind: "symlink", executable: false, hash: blobHash(Buffer.from(member.link, "utf8")) });
        break;
      case "hardlink": {
        const targetParts = member.link.split("/").filter((p) => p !== "" && p !== ".");
        const target = tree.leafAt(targetParts);
        if (!target || target.kind !== "file") {
          throw new TarFormatError(`hard link ${JSON.stringify(member.rawPath)} to ${JSON.stringify(member.link)}, which is not an earlier file`, member.offset);
        }
        tree.addLeaf(parts, { kind: "file", executable: (member.mode & 0o100) !== 0, hash: target.hash });
        break;
      }
      case "file": {
        const hasher = new BlobHasher(member.size);
        const keep = options.capture?.(parts.join("/")) && member.size <= MAX_CAPTURE_BYTES ? ([] as Uint8Array[]) : undefined;
        for await (const chunk of body) {
          hasher.update(chunk);
          keep?.push(chunk);
        }
        if (keep) files.set(parts.join("/"), Buffer.concat(keep));
        tree.addLeaf(parts, { kind: "file", executable: (member.mode & 0o100) !== 0, hash: hasher.digest() });
        break;
      }
    }
  }
  return { hash: tree.hash(rules), files };
}
