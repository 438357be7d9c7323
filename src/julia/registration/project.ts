// A package's Project.toml, checked the way registration needs it.

import { parseTomlFile } from "./registry-files.js";
import { formatVersion, parseVersion, semverSpec, type VersionNumber } from "./versions.js";

export interface Project {
  name: string;
  uuid: string;
  version: VersionNumber;
  deps: Record<string, string>;
  weakdeps: Record<string, string>;
  extras: Record<string, string>;
  compat: Record<string, string>;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

function uuidTable(value: unknown, file: string, section: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${file}: [${section}] must be a table`);
  const out: Record<string, string> = {};
  for (const [name, uuid] of Object.entries(value)) {
    if (typeof uuid !== "string" || !isUuid(uuid.toLowerCase())) throw new Error(`${file}: [${section}] ${name} = ${JSON.stringify(uuid)} is not a UUID`);
    out[name] = uuid.toLowerCase();
  }
  return out;
}

/** Parses and checks Project.toml; `file` names it in errors (e.g. "Foo/Project.toml at v1.2.3"). */
export function parseProject(text: string, file: string): Project {
  const t = parseTomlFile(text, file);
  const name = t.name;
  if (typeof name !== "string" || !NAME_RE.test(name)) throw new Error(`${file}: "name" must be a valid package name, got ${JSON.stringify(name)}`);
  const uuid = typeof t.uuid === "string" ? t.uuid.toLowerCase() : undefined;
  if (!uuid || !isUuid(uuid)) throw new Error(`${file}: "uuid" must be a UUID, got ${JSON.stringify(t.uuid)}`);
  if (typeof t.version !== "string") throw new Error(`${file}: "version" is missing`);
  const version = parseVersion(t.version);
  if (!version || !/^\d+\.\d+\.\d+/.test(t.version.replace(/^v/, ""))) throw new Error(`${file}: "version" ${JSON.stringify(t.version)} is not a full version number`);
  if (version.major === 0 && version.minor === 0 && version.patch === 0) throw new Error(`${file}: version must be greater than 0.0.0`);
  const deps = uuidTable(t.deps, file, "deps");
  const weakdeps = uuidTable(t.weakdeps, file, "weakdeps");
  const extras = uuidTable(t.extras, file, "extras");
  if (name in deps || name in weakdeps) throw new Error(`${file}: package ${name} lists itself in [deps] or [weakdeps]`);
  const compat: Record<string, string> = {};
  if (t.compat !== undefined) {
    if (typeof t.compat !== "object" || t.compat === null || Array.isArray(t.compat)) throw new Error(`${file}: [compat] must be a table`);
    for (const [dep, spec] of Object.entries(t.compat)) {
      if (typeof spec !== "string") throw new Error(`${file}: [compat] ${dep} must be a string`);
      try {
        semverSpec(spec);
      } catch (err) {
        throw new Error(`${file}: [compat] ${dep}: ${(err as Error).message}`);
      }
      compat[dep] = spec;
    }
  }
  return { name, uuid, version, deps, weakdeps, extras, compat };
}

export function projectVersion(p: Project): string {
  return formatVersion(p.version);
}
