// What LocalRegistry's register() writes into a registry for one package version: pure, from the
// registry's current files and the package's Project.toml at the tag to the new file contents.

import { compress, expand, type Compressed, type EntryValue, type Uncompressed } from "./compress.js";
import { projectVersion, type Project } from "./project.js";
import {
  parsePackageToml,
  parseRegistryToml,
  parseTomlFile,
  parseVersionsToml,
  printPackageToml,
  printRegistryToml,
  printVersionsToml,
  type VersionsToml,
} from "./registry-files.js";
import { printToml, type PrintTable } from "./toml-print.js";
import { STDLIB_UUIDS } from "./stdlibs.js";
import { compatValue, parseVersion, sameVersion } from "./versions.js";

export interface RegistrationInput {
  project: Project;
  /** git tree hash of the tagged commit's tree, or of its subdir tree. */
  treeHash: string;
  /** The package repository URL to record (never with credentials); may be "" for a known package. */
  repo: string;
  /** Path of the package inside its repository, "" for the root. */
  subdir: string;
  tag: string;
  /** Reads a registry file by its "/"-separated path; undefined when absent. */
  read: (path: string) => string | undefined;
}

export type RegistrationKind = "New package" | "New version" | "Already registered";

export interface RegistrationPlan {
  kind: RegistrationKind;
  name: string;
  uuid: string;
  version: string;
  treeHash: string;
  repo: string;
  /** The package's directory in the registry. */
  packagePath: string;
  /** Registry files to write ("/"-separated path → contents); empty when already registered. */
  files: Record<string, string>;
  commitMessage: string;
}

/** A refusal: the tag cannot be registered as it is. The message says what to fix. */
export class RegistrationError extends Error {
  override name = "RegistrationError";
}

/** RegistryTools' package_relpath, with General's jll/ prefix for JLL wrappers. */
export function packageRelPath(name: string): string {
  const dir = `${name[0]!.toUpperCase()}/${name}`;
  return name.endsWith("_jll") ? `jll/${dir}` : dir;
}

/** Repository URLs compared as RegistryTools does: the same apart from a trailing ".git" (and "/"). */
export function sameRepo(a: string, b: string): boolean {
  const norm = (u: string) => u.trim().replace(/\/+$/, "").replace(/\.git$/, "");
  return norm(a) === norm(b);
}

/** The tags that may name this version: v1.2.3, or <Name>-v1.2.3 for a package in a subdirectory. */
export function expectedTags(project: Project, subdir: string): string[] {
  const v = projectVersion(project);
  return subdir ? [`${project.name}-v${v}`, `v${v}`] : [`v${v}`];
}

function checkTag(input: RegistrationInput): void {
  const { project, subdir, tag } = input;
  const prefix = subdir ? new RegExp(`^(?:${project.name}-)?v`) : /^v/;
  const tagged = prefix.test(tag) ? parseVersion(tag.replace(prefix, "")) : null;
  if (!tagged || !sameVersion(tagged, project.version) || !/^\d+\.\d+\.\d+/.test(tag.replace(prefix, ""))) {
    throw new RegistrationError(
      `tag ${tag} does not match Project.toml version ${projectVersion(project)} of ${project.name} (expected ${expectedTags(project, subdir).join(" or ")})`,
    );
  }
}

function readCompressed(input: RegistrationInput, path: string): Compressed | undefined {
  const text = input.read(path);
  if (text === undefined) return undefined;
  return parseTomlFile(text, path) as unknown as Compressed;
}

function printCompressed(data: Compressed): string {
  return printToml(data as unknown as PrintTable);
}

export function planRegistration(input: RegistrationInput): RegistrationPlan {
  const { project, treeHash, subdir } = input;
  if (!/^[0-9a-f]{40}$/.test(treeHash)) throw new RegistrationError(`not a git tree hash: ${treeHash}`);
  checkTag(input);
  const version = projectVersion(project);

  for (const [section, deps] of [["deps", project.deps], ["weakdeps", project.weakdeps]] as const) {
    for (const [name, uuid] of Object.entries(deps)) {
      const stdlib = Object.hasOwn(STDLIB_UUIDS, name) ? STDLIB_UUIDS[name] : undefined;
      if (stdlib !== undefined && stdlib !== uuid) throw new RegistrationError(`Project.toml [${section}] ${name} = ${uuid}: the standard library ${name} is ${stdlib}`);
    }
  }

  const registryText = input.read("Registry.toml");
  if (registryText === undefined) throw new RegistrationError("the registry has no Registry.toml at its root");
  const registry = parseRegistryToml(registryText);

  let kind: RegistrationKind;
  let packagePath: string;
  const known = registry.packages[project.uuid];
  if (known) {
    if (known.name !== project.name) {
      throw new RegistrationError(`UUID ${project.uuid} is registered as ${known.name}, but Project.toml names it ${project.name}; renaming a package is not allowed`);
    }
    packagePath = known.path;
    kind = "New version";
  } else {
    const sameName = Object.entries(registry.packages).find(([, p]) => p.name === project.name);
    if (sameName) {
      throw new RegistrationError(`${project.name} is registered with UUID ${sameName[0]}, but Project.toml has UUID ${project.uuid}; changing a package's UUID is not allowed`);
    }
    packagePath = packageRelPath(project.name);
    if (Object.values(registry.packages).some((p) => p.path === packagePath)) {
      throw new RegistrationError(`registry path ${packagePath} is already used by another package`);
    }
    kind = "New package";
  }

  const packageFile = `${packagePath}/Package.toml`;
  const packageText = input.read(packageFile);
  let repo = input.repo;
  if (packageText !== undefined) {
    const stored = parsePackageToml(packageText, packageFile);
    if (stored.uuid.toLowerCase() !== project.uuid) throw new RegistrationError(`${packageFile} has UUID ${stored.uuid}, not ${project.uuid}`);
    if (!repo) repo = stored.repo;
    else if (!sameRepo(stored.repo, repo)) {
      throw new RegistrationError(`${project.name} is registered from ${stored.repo}, not ${repo}; refusing to register it from a different repository`);
    }
  } else if (kind === "New version") {
    throw new RegistrationError(`${packageFile} is missing from the registry`);
  }
  if (!repo) throw new RegistrationError(`no repository URL for new package ${project.name}`);

  const versionsFile = `${packagePath}/Versions.toml`;
  const versionsText = input.read(versionsFile);
  const versions: VersionsToml = versionsText === undefined ? {} : parseVersionsToml(versionsText, versionsFile);
  const oldKeys = Object.keys(versions).map((key) => ({ key, version: parseVersion(key)! }));
  const existing = oldKeys.find((o) => sameVersion(o.version, project.version));
  const message = (k: RegistrationKind) => `${k}: ${project.name} v${version}\n\nUUID: ${project.uuid}\nRepo: ${repo}\nTree: ${treeHash}\n`;
  if (existing) {
    const registered = versions[existing.key]!["git-tree-sha1"];
    if (registered === treeHash) {
      return { kind: "Already registered", name: project.name, uuid: project.uuid, version, treeHash, repo, packagePath, files: {}, commitMessage: "" };
    }
    throw new RegistrationError(`${project.name} v${version} is already registered with tree ${registered}, but ${input.tag} has tree ${treeHash}; a registered version cannot change`);
  }

  const files: Record<string, string> = {};
  if (kind === "New package") {
    registry.packages[project.uuid] = { name: project.name, path: packagePath };
    files["Registry.toml"] = printRegistryToml(registry);
  }
  files[packageFile] = printPackageToml({ name: project.name, uuid: project.uuid, repo, subdir: subdir || undefined });
  versions[version] = { "git-tree-sha1": treeHash };
  files[versionsFile] = printVersionsToml(versions);

  const pool = Object.keys(versions).map((k) => parseVersion(k)!);
  const parse = (k: string) => parseVersion(k)!;
  const update = (file: string, entries: Record<string, EntryValue>, always: boolean) => {
    const path = `${packagePath}/${file}`;
    const old = readCompressed(input, path);
    const data: Uncompressed = old ? expand(old, oldKeys, path) : new Map();
    data.set(version, new Map(Object.entries(entries)));
    const anyEntries = [...data.values()].some((m) => m.size > 0);
    if (always || anyEntries) files[path] = printCompressed(compress(data, pool, parse));
  };

  update("Deps.toml", project.deps, true);
  update("WeakDeps.toml", project.weakdeps, false);
  const compatFor = (deps: Record<string, string>, withJulia: boolean) => {
    const out: Record<string, EntryValue> = {};
    for (const [name, spec] of Object.entries(project.compat)) {
      if (name in deps || (withJulia && name === "julia")) out[name] = compatValue(spec);
    }
    return out;
  };
  update("Compat.toml", compatFor(project.deps, true), true);
  update("WeakCompat.toml", compatFor(project.weakdeps, false), false);

  return { kind, name: project.name, uuid: project.uuid, version, treeHash, repo, packagePath, files, commitMessage: message(kind) };
}
