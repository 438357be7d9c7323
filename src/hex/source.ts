import type { HexMetadata, MetadataLayout } from "./metadata.js";
import type { PackageFile } from "./tarball.js";

/** A project's tree at one commit, as the domain sees it: paths and a way to read a blob. */
export interface SourceTree {
  /** Every regular file and symlink path, "/"-separated. */
  paths: string[];
  read(path: string): Promise<Uint8Array>;
  isExecutable(path: string): boolean;
  /** The target when path is a symlink. */
  symlinkTarget(path: string): string | undefined;
}

export interface PackagePlan {
  /** metadata.files lists directories too, as the clients write it; `files` holds the file entries. */
  metadata: HexMetadata;
  files: PackageFile[];
  layout: MetadataLayout;
  /** What a reader said on the way (e.g. which build tool was chosen and why). */
  notes?: string[];
}

/** Source that cannot be turned into a package without running Elixir or Erlang, or that is wrong. */
export class SourceError extends Error {
  override name = "SourceError";
}

/** "v1.2.3" or "1.2.3" → "1.2.3"; undefined when the tag is not a version. */
export function versionFromTag(tag: string): string {
  return tag.replace(/^refs\/tags\//, "").replace(/^v/, "");
}

export async function collectFiles(tree: SourceTree, paths: string[], replace: Map<string, Uint8Array> = new Map()): Promise<PackageFile[]> {
  const out: PackageFile[] = [];
  for (const p of paths) {
    const target = tree.symlinkTarget(p);
    if (target !== undefined) out.push({ path: p, data: new Uint8Array(0), symlink: target });
    else out.push({ path: p, data: replace.get(p) ?? (await tree.read(p)), executable: tree.isExecutable(p) });
  }
  return out;
}
