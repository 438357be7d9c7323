import type { TomlTable } from "smol-toml";
import { isTreeHash, isUuid, parseToml, RegistryFileError } from "./registry-toml.js";

/**
 * Reads a Julia Manifest.toml (format 1: top-level `[[Name]]` arrays; format 2:
 * `manifest_format = "2.0"` with `[[deps.Name]]`) into what a mirror fetches: the packages
 * that come from a registry by tree hash. Stdlibs (no git-tree-sha1) and packages tracked by
 * path or repository (`path`, `repo-url`) are listed apart, with why, since no Pkg server
 * serves them.
 */

export interface ManifestPackage {
  name: string;
  uuid: string;
  version?: string;
  treeHash: string;
}

export interface ManifestSkip {
  name: string;
  uuid?: string;
  reason: string;
}

export interface Manifest {
  format: 1 | 2;
  packages: ManifestPackage[];
  skipped: ManifestSkip[];
}

export function readManifest(text: string, file: string): Manifest {
  const t = parseToml(text, file);
  const formatValue = t.manifest_format;
  let format: 1 | 2;
  let deps: TomlTable;
  if (formatValue === undefined) {
    format = 1;
    deps = t;
  } else {
    if (typeof formatValue !== "string" || !/^2(\.\d+)*$/.test(formatValue)) {
      throw new RegistryFileError(file, `manifest_format ${JSON.stringify(formatValue)} is not one this reader knows (1 or 2.x)`);
    }
    format = 2;
    const d = t.deps ?? {};
    if (typeof d !== "object" || Array.isArray(d) || d instanceof Date) throw new RegistryFileError(file, "deps must be a table");
    deps = d as TomlTable;
  }
  const packages: ManifestPackage[] = [];
  const skipped: ManifestSkip[] = [];
  for (const [name, value] of Object.entries(deps)) {
    // Format 1 also has plain top-level keys (julia_version in late 1.x manifests).
    if (format === 1 && !Array.isArray(value)) continue;
    if (!Array.isArray(value)) throw new RegistryFileError(file, `deps.${name} must be an array of tables ([[deps.${name}]])`);
    value.forEach((entry, i) => {
      const where = `${format === 2 ? "deps." : ""}${name}${value.length > 1 ? `[${i + 1}]` : ""}`;
      if (typeof entry !== "object" || entry === null || Array.isArray(entry) || entry instanceof Date) {
        throw new RegistryFileError(file, `${where} must be a table`);
      }
      const e = entry as TomlTable;
      const uuid = typeof e.uuid === "string" ? e.uuid.toLowerCase() : undefined;
      if (uuid === undefined || !isUuid(uuid)) throw new RegistryFileError(file, `${where}: uuid ${JSON.stringify(e.uuid)} is not a UUID`);
      const version = typeof e.version === "string" ? e.version : undefined;
      if (typeof e.path === "string") return skipped.push({ name, uuid, reason: `tracked by path (${e.path})` });
      if (typeof e["repo-url"] === "string") return skipped.push({ name, uuid, reason: `tracked by repository (${e["repo-url"]})` });
      const tree = e["git-tree-sha1"];
      if (tree === undefined) return skipped.push({ name, uuid, reason: "a standard library (no git-tree-sha1)" });
      if (typeof tree !== "string" || !isTreeHash(tree.toLowerCase())) {
        throw new RegistryFileError(file, `${where}: git-tree-sha1 ${JSON.stringify(tree)} is not a 40-digit hex hash`);
      }
      packages.push({ name, uuid, ...(version ? { version } : {}), treeHash: tree.toLowerCase() });
    });
  }
  return { format, packages, skipped };
}
