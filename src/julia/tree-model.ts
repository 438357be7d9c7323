import { EMPTY_TREE_HASH, treeHash, type GitMode, type GitTreeEntry } from "./git-object.js";

/** A leaf already hashed: a file (blob of its bytes) or a symlink (blob of its target). */
export interface HashedLeaf {
  kind: "file" | "symlink";
  executable: boolean;
  hash: string;
  /** File size, for re-packing. */
  size?: number;
  /** Symlink target, for re-packing. */
  target?: string;
  /** Where the caller kept a file's bytes (opaque here), for re-packing. */
  ref?: string;
}

/** An entry of the tree as it stands after every member was applied. */
export type ModelEntry =
  | { type: "directory"; path: string }
  | { type: "symlink"; path: string; target: string }
  | { type: "file"; path: string; executable: boolean; size: number; ref: string };

interface DirNode {
  kind: "dir";
  children: Map<string, DirNode | HashedLeaf>;
}

export interface TreeHashRules {
  /** Pkg.GitTools.tree_hash skips directories that hold no file or symlink at any depth; Tar.tree_hash(skip_empty=false) does not. */
  skipEmpty: boolean;
  /** Pkg.GitTools.tree_hash skips every entry named ".git"; Tar.tree_hash does not. */
  skipDotGit: boolean;
}

/** The rule Pkg applies to packages and artifacts (an extracted directory, git semantics). */
export const PACKAGE_RULES: TreeHashRules = { skipEmpty: true, skipDotGit: true };
/** The rule Pkg applies to packed registries (Tar.tree_hash over the stream, skip_empty=false). */
export const REGISTRY_RULES: TreeHashRules = { skipEmpty: false, skipDotGit: false };

/**
 * A directory tree assembled from tar members in stream order, with the later-entry-wins and
 * implicit-parent rules of Tar.jl, then hashed as git would hash it.
 */
export class TreeModel {
  private readonly root: DirNode = { kind: "dir", children: new Map() };

  /** Path components, already validated (no "", ".", ".."). */
  addDirectory(parts: readonly string[]): void {
    this.dirAt(parts);
  }

  addLeaf(parts: readonly string[], leaf: HashedLeaf): void {
    if (parts.length === 0) throw new Error("a file cannot be the root");
    const parent = this.dirAt(parts.slice(0, -1));
    parent.children.set(parts[parts.length - 1]!, leaf);
  }

  /** The leaf at a path, for hard links (which must name an earlier regular file). */
  leafAt(parts: readonly string[]): HashedLeaf | undefined {
    const parent = this.findDir(parts.slice(0, -1));
    const node = parent?.children.get(parts[parts.length - 1]!);
    return node && node.kind !== "dir" ? node : undefined;
  }

  /** True when some proper prefix of the path is a symlink: extracting under it would escape. */
  underSymlink(parts: readonly string[]): boolean {
    let node: DirNode = this.root;
    for (const part of parts.slice(0, -1)) {
      const next = node.children.get(part);
      if (!next) return false;
      if (next.kind !== "dir") return next.kind === "symlink";
      node = next;
    }
    return false;
  }

  /** Every directory (empty ones too), file and symlink, parents before children. */
  entries(): ModelEntry[] {
    const out: ModelEntry[] = [];
    const walk = (dir: DirNode, prefix: string): void => {
      for (const [name, node] of dir.children) {
        const p = prefix ? `${prefix}/${name}` : name;
        if (node.kind === "dir") {
          out.push({ type: "directory", path: p });
          walk(node, p);
        } else if (node.kind === "symlink") {
          out.push({ type: "symlink", path: p, target: node.target ?? "" });
        } else {
          out.push({ type: "file", path: p, executable: node.executable, size: node.size ?? 0, ref: node.ref ?? "" });
        }
      }
    };
    walk(this.root, "");
    return out;
  }

  hash(rules: TreeHashRules): string {
    return hashDir(this.root, rules) ?? EMPTY_TREE_HASH;
  }

  private findDir(parts: readonly string[]): DirNode | undefined {
    let node = this.root;
    for (const part of parts) {
      const next = node.children.get(part);
      if (!next || next.kind !== "dir") return undefined;
      node = next;
    }
    return node;
  }

  private dirAt(parts: readonly string[]): DirNode {
    let node = this.root;
    for (const part of parts) {
      let next = node.children.get(part);
      if (!next || next.kind !== "dir") {
        // A directory entry replaces an earlier file of the same name, as extraction would.
        next = { kind: "dir", children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    return node;
  }
}

/** undefined when the directory is skipped as empty. */
function hashDir(dir: DirNode, rules: TreeHashRules): string | undefined {
  const entries: GitTreeEntry[] = [];
  for (const [name, node] of dir.children) {
    if (rules.skipDotGit && name === ".git") continue;
    if (node.kind === "dir") {
      const h = hashDir(node, rules);
      if (h === undefined) continue;
      entries.push({ name, mode: "40000", hash: h });
    } else {
      const mode: GitMode = node.kind === "symlink" ? "120000" : node.executable ? "100755" : "100644";
      entries.push({ name, mode, hash: node.hash });
    }
  }
  if (entries.length === 0 && rules.skipEmpty) return undefined;
  return treeHash(entries);
}
