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
        for await (const chunk of body) hasher.update(chunk);
        tree.addLeaf(parts, { kind: "file", executable: (member.mode & 0o100) !== 0, hash: hasher.digest() });
        break;
      }
    }
  }
  return tree.hash(rules);
}
