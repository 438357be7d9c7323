// Reading and writing Registry.toml, Package.toml and Versions.toml in RegistryTools' layout.

import type { TomlTable } from "smol-toml";
import { checkRelativePath, parseToml, readPackageToml } from "../registry-toml.js";
import { printKey, printToml, printValue, quote, type PrintTable, type PrintValue } from "./toml-print.js";
import { compareVersions, parseVersion } from "./versions.js";

export interface RegistryToml {
  name: string;
  uuid: string;
  repo?: string;
  description?: string;
  /** uuid → { name, path } */
  packages: Record<string, { name: string; path: string }>;
  /** Other top-level keys, kept as they were. */
  extra: Record<string, unknown>;
}

/** TOML with the error naming the file and line (the registry reader's parser). */
export function parseTomlFile(text: string, fileName: string): TomlTable {
  return parseToml(text, fileName);
}

function str(table: TomlTable, key: string, fileName: string, optional = false): string | undefined {
  const v = table[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string") throw new Error(`${fileName}: "${key}" must be a string`);
  return v;
}

export function parseRegistryToml(text: string): RegistryToml {
  const file = "Registry.toml";
  const t = parseTomlFile(text, file);
  const packages: RegistryToml["packages"] = {};
  const pk = t.packages ?? {};
  if (typeof pk !== "object" || Array.isArray(pk)) throw new Error(`${file}: [packages] must be a table`);
  for (const [uuid, entry] of Object.entries(pk as TomlTable)) {
    const e = entry as TomlTable;
    const path = checkRelativePath(str(e, "path", `${file} [packages] ${uuid}`)!, file, `[packages] ${uuid}: path`);
    packages[uuid] = { name: str(e, "name", `${file} [packages] ${uuid}`)!, path };
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) {
    if (!["name", "uuid", "repo", "description", "packages"].includes(k)) extra[k] = v;
  }
  return {
    name: str(t, "name", file)!,
    uuid: str(t, "uuid", file)!,
    repo: str(t, "repo", file, true),
    description: str(t, "description", file, true),
    packages,
    extra,
  };
}

/** RegistryTools' TOML.print(::RegistryData): fixed header order, packages sorted by UUID, inline tables. */
export function printRegistryToml(reg: RegistryToml): string {
  let out = `name = ${quote(reg.name)}\nuuid = ${quote(reg.uuid)}\n`;
  if (reg.repo !== undefined) out += `repo = ${quote(reg.repo)}\n`;
  if (reg.description !== undefined) {
    out += reg.description.includes("\n") ? `\ndescription = """\n${reg.description}"""\n` : `description = ${quote(reg.description)}\n`;
  }
  for (const key of Object.keys(reg.extra).sort()) {
    out += printToml({ [key]: reg.extra[key] as PrintValue | PrintTable });
  }
  out += "\n[packages]\n";
  for (const uuid of Object.keys(reg.packages).sort()) {
    const p = reg.packages[uuid]!;
    out += `${uuid} = { name = ${quote(p.name)}, path = ${quote(p.path)} }\n`;
  }
  return out;
}

export interface PackageToml {
  name: string;
  uuid: string;
  repo: string;
  subdir?: string;
}

export function parsePackageToml(text: string, fileName: string): PackageToml {
  return readPackageToml(text, fileName);
}

const PACKAGE_KEY_RANK: Record<string, number> = { name: 1, uuid: 2, repo: 3 };

export function printPackageToml(pkg: PackageToml): string {
  const table: PrintTable = { name: pkg.name, uuid: pkg.uuid, repo: pkg.repo };
  if (pkg.subdir) table.subdir = pkg.subdir;
  return printToml(table, (a, b) => (PACKAGE_KEY_RANK[a] ?? 4) - (PACKAGE_KEY_RANK[b] ?? 4) || (a < b ? -1 : a > b ? 1 : 0));
}

/** version string → { "git-tree-sha1", yanked?, ... } */
export type VersionsToml = Record<string, Record<string, PrintValue>>;

export function parseVersionsToml(text: string, fileName: string): VersionsToml {
  const t = parseTomlFile(text, fileName);
  const out: VersionsToml = {};
  for (const [version, entry] of Object.entries(t)) {
    if (!parseVersion(version)) throw new Error(`${fileName}: ${JSON.stringify(version)} is not a version number`);
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new Error(`${fileName}: [${version}] must be a table`);
    const e = entry as Record<string, PrintValue>;
    if (typeof e["git-tree-sha1"] !== "string") throw new Error(`${fileName}: [${version}] has no git-tree-sha1`);
    out[version] = e;
  }
  return out;
}

const VERSION_ENTRY_RANK: Record<string, number> = { "git-tree-sha1": 1, yanked: 2 };

/** Sections sorted by VersionNumber; git-tree-sha1 before yanked before anything else. */
export function printVersionsToml(versions: VersionsToml): string {
  const keys = Object.keys(versions).sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!));
  return keys
    .map((v) => {
      const entry = versions[v]!;
      const inner = Object.keys(entry).sort((a, b) => (VERSION_ENTRY_RANK[a] ?? 3) - (VERSION_ENTRY_RANK[b] ?? 3) || (a < b ? -1 : a > b ? 1 : 0));
      return `[${printKey(v)}]\n${inner.map((k) => `${printKey(k)} = ${printValue(entry[k]!)}\n`).join("")}`;
    })
    .join("\n");
}
