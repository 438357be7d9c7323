import { parse, TomlError, type TomlTable } from "smol-toml";

/**
 * The registry files a publisher reads (Registry.toml, Package.toml, Versions.toml,
 * Artifacts.toml), validated strictly: every error names the file, and the line where TOML
 * itself is at fault. UUIDs and hashes come out lower-case, as Pkg puts them in URLs.
 */

export class RegistryFileError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = "RegistryFileError";
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TREE_HASH = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

export function isTreeHash(s: string): boolean {
  return TREE_HASH.test(s);
}

export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new RegistryFileError(`${file}:${err.line}`, `invalid TOML: ${first} (column ${err.column})`);
    }
    throw new RegistryFileError(file, `invalid TOML: ${(err as Error).message}`);
  }
}

function str(t: TomlTable, key: string, file: string, where = ""): string {
  const v = t[key];
  if (typeof v !== "string" || v === "") throw new RegistryFileError(file, `${where}${key} must be a non-empty string`);
  return v;
}

function uuidField(t: TomlTable, key: string, file: string, where = ""): string {
  const v = str(t, key, file, where).toLowerCase();
  if (!UUID.test(v)) throw new RegistryFileError(file, `${where}${key} ${JSON.stringify(t[key])} is not a UUID`);
  return v;
}

/** A relative "/"-separated path that stays inside the repository. */
export function checkRelativePath(p: string, file: string, what: string): string {
  const parts = p.split("/");
  if (p === "" || p.startsWith("/") || p.includes("\\") || p.includes("\0") || parts.some((s) => s === "" || s === "." || s === "..")) {
    throw new RegistryFileError(file, `${what} ${JSON.stringify(p)} must be a relative path inside the repository`);
  }
  return p;
}

export interface RegistryInfo {
  name: string;
  uuid: string;
  repo?: string;
  packages: Array<{ uuid: string; name: string; path: string }>;
}

export function readRegistryToml(text: string, file = "Registry.toml"): RegistryInfo {
  const t = parseToml(text, file);
  const packagesTable = t.packages ?? {};
  if (typeof packagesTable !== "object" || Array.isArray(packagesTable) || packagesTable instanceof Date) {
    throw new RegistryFileError(file, "[packages] must be a table");
  }
  const packages: RegistryInfo["packages"] = [];
  for (const [key, value] of Object.entries(packagesTable as TomlTable)) {
    const uuid = key.toLowerCase();
    if (!UUID.test(uuid)) throw new RegistryFileError(file, `[packages] key ${JSON.stringify(key)} is not a UUID`);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RegistryFileError(file, `[packages] ${key} must be a table`);
    const entry = value as TomlTable;
    packages.push({
      uuid,
      name: str(entry, "name", file, `[packages] ${key}: `),
      path: checkRelativePath(str(entry, "path", file, `[packages] ${key}: `), file, `[packages] ${key}: path`),
    });
  }
  const repo = typeof t.repo === "string" ? t.repo : undefined;
  return { name: str(t, "name", file), uuid: uuidField(t, "uuid", file), repo, packages };
}

/**
 * The registry's name and uuid from the lines before its first table, without parsing the
 * [packages] table (a 20,000-package Registry.toml takes ~200 ms to parse). null when that
 * part cannot be read on its own (a multi-line string, say): parse the whole file then.
 */
export function readRegistryHeader(text: string, file = "Registry.toml"): { name: string; uuid: string } | null {
  const m = /^[ \t]*\[/m.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  if (head.includes('"""') || head.includes("'''")) return null;
  let t: TomlTable;
  try {
    t = parse(head);
  } catch {
    return null;
  }
  try {
    return { name: str(t, "name", file), uuid: uuidField(t, "uuid", file) };
  } catch {
    return null; // the whole file's parse names the error
  }
}

/**
 * The [packages] entry of one package, found by its uuid among the one-line entries Pkg's
 * tools write (`<uuid> = { name = "…", path = "…" }`), validated as readRegistryToml would.
 * undefined when there is no such line (the entry may still be written another way: parse the
 * whole file to be sure).
 */
export function findRegistryEntry(text: string, uuid: string, file = "Registry.toml"): RegistryInfo["packages"][number] | undefined {
  if (!UUID.test(uuid)) return undefined;
  for (let at = text.indexOf(uuid); at >= 0; at = text.indexOf(uuid, at + 1)) {
    if (at > 0 && text[at - 1] !== "\n") continue;
    const end = text.indexOf("\n", at);
    const line = text.slice(at, end < 0 ? text.length : end);
    if (!/^[0-9a-f-]{36}\s*=\s*\{/.test(line)) continue;
    // Only a line of the [packages] table is that table's entry.
    const table = text.lastIndexOf("\n[", at);
    if (table < 0 || !text.startsWith("\n[packages]", table)) continue;
    let t: TomlTable;
    try {
      t = parse(line);
    } catch {
      continue;
    }
    const entry = t[uuid];
    if (typeof entry !== "object" || entry === null || Array.isArray(entry) || entry instanceof Date) continue;
    const e = entry as TomlTable;
    const where = `[packages] ${uuid}: `;
    return { uuid, name: str(e, "name", file, where), path: checkRelativePath(str(e, "path", file, where), file, `${where}path`) };
  }
  return undefined;
}

export interface PackageInfo {
  name: string;
  uuid: string;
  repo: string;
  subdir?: string;
}

export function readPackageToml(text: string, file: string): PackageInfo {
  const t = parseToml(text, file);
  const subdir = t.subdir === undefined ? undefined : checkRelativePath(str(t, "subdir", file), file, "subdir");
  return { name: str(t, "name", file), uuid: uuidField(t, "uuid", file), repo: str(t, "repo", file), subdir };
}

export interface VersionInfo {
  version: string;
  treeHash: string;
  yanked: boolean;
}

export function readVersionsToml(text: string, file: string): VersionInfo[] {
  const t = parseToml(text, file);
  const out: VersionInfo[] = [];
  for (const [version, value] of Object.entries(t)) {
    if (!VERSION.test(version)) throw new RegistryFileError(file, `${JSON.stringify(version)} is not a version number`);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RegistryFileError(file, `["${version}"] must be a table`);
    const entry = value as TomlTable;
    const hash = str(entry, "git-tree-sha1", file, `["${version}"] `).toLowerCase();
    if (!TREE_HASH.test(hash)) throw new RegistryFileError(file, `["${version}"] git-tree-sha1 ${JSON.stringify(entry["git-tree-sha1"])} is not a 40-digit hex hash`);
    out.push({ version, treeHash: hash, yanked: entry.yanked === true });
  }
  return out;
}

export interface ArtifactDownload {
  url: string;
  sha256: string;
}

export interface ArtifactInfo {
  /** The artifact's name, with the platform for platform-specific entries (for messages). */
  label: string;
  treeHash: string;
  lazy: boolean;
  downloads: ArtifactDownload[];
  /** The platform keys of a platform-specific entry (arch, os, libc, …); empty otherwise. */
  platform?: Record<string, string>;
}

/**
 * Every artifact an Artifacts.toml declares: plain tables and arrays of platform-specific
 * tables alike, lazy ones included.
 */
export function readArtifactsToml(text: string, file: string): ArtifactInfo[] {
  const t = parseToml(text, file);
  const out: ArtifactInfo[] = [];
  for (const [name, value] of Object.entries(t)) {
    const variants = Array.isArray(value) ? value : [value];
    variants.forEach((v, i) => {
      if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date) {
        throw new RegistryFileError(file, `artifact ${JSON.stringify(name)} must be a table or an array of tables`);
      }
      const entry = v as TomlTable;
      const platform = Array.isArray(value) ? platformLabel(entry, i) : "";
      const label = platform ? `${name} (${platform})` : name;
      const hash = str(entry, "git-tree-sha1", file, `${label}: `).toLowerCase();
      if (!TREE_HASH.test(hash)) throw new RegistryFileError(file, `${label}: git-tree-sha1 is not a 40-digit hex hash`);
      const downloadsValue = entry.download ?? [];
      const downloads = (Array.isArray(downloadsValue) ? downloadsValue : [downloadsValue]).map((d) => {
        if (typeof d !== "object" || d === null || Array.isArray(d)) throw new RegistryFileError(file, `${label}: download entries must be tables`);
        const dt = d as TomlTable;
        const url = str(dt, "url", file, `${label}: download `);
        const sha = str(dt, "sha256", file, `${label}: download `).toLowerCase();
        if (!SHA256.test(sha)) throw new RegistryFileError(file, `${label}: download sha256 is not 64 hex digits`);
        return { url, sha256: sha };
      });
      const keys = Object.fromEntries(PLATFORM_KEYS.flatMap((k) => (typeof entry[k] === "string" ? [[k, entry[k] as string]] : [])));
      out.push({ label, treeHash: hash, lazy: entry.lazy === true, downloads, platform: keys });
    });
  }
  return out;
}

const PLATFORM_KEYS = ["arch", "os", "libc", "call_abi", "libgfortran_version", "cxxstring_abi", "julia_version"];

function platformLabel(entry: TomlTable, index: number): string {
  const parts = PLATFORM_KEYS
    .map((k) => entry[k])
    .filter((v): v is string => typeof v === "string");
  return parts.length > 0 ? parts.join("-") : `#${index + 1}`;
}

/** The /registries resource: one "/registry/<uuid>/<hash>" line per registry, sorted by UUID. */
export function formatRegistries(entries: ReadonlyMap<string, string>): string {
  return [...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([uuid, hash]) => `/registry/${uuid}/${hash}\n`)
    .join("");
}

/** Parses /registries as Pkg does: lines that do not match are ignored. */
export function parseRegistries(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\/registry\/([0-9a-f-]{36})\/([0-9a-f]{40})$/.exec(line.trim());
    if (m && UUID.test(m[1]!)) out.set(m[1]!, m[2]!);
  }
  return out;
}
