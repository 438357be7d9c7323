import { tokenize, type Tok } from "./elixir-tokens.js";
import { guessBuildTools, MIX_DEFAULT_FILES, selectEntries } from "./files.js";
import { validatePackageName, validateVersion, type HexMetadata, type Requirement } from "./metadata.js";
import { Evaluator, scanModule, type Value } from "./mix-eval.js";
import { collectFiles, SourceError, versionFromTag, type PackagePlan, type SourceTree } from "./source.js";

/**
 * Reads the project/0 data a Hex package needs from mix.exs without running Elixir (the
 * evaluator is mix-eval.ts), and plans the package as `mix hex.build` builds it.
 */

export type { Value } from "./mix-eval.js";

const HOW_TO_FIX =
  "pkgpub reads mix.exs without running Elixir, so write a literal here, or build the tarball with `mix hex.build` (for example in the pkgpub GitHub Action) and publish it with --tarball";

// ---- from values to package metadata ----

function need(v: Value | undefined, what: string): Exclude<Value, { k: "dyn" }> | undefined {
  if (v === undefined) return undefined;
  if (v.k === "dyn") throw new SourceError(`mix.exs:${v.line}: ${what} is ${v.what}; ${HOW_TO_FIX}`);
  return v;
}

function kwGet(list: Value | undefined, key: string): Value | undefined {
  if (list?.k === "map") return list.v.find(([k]) => k.k === "atom" && k.v === key)?.[1];
  if (!list || list.k !== "list") return undefined;
  for (const item of list.v) {
    if (item.k === "tuple" && item.v.length === 2 && item.v[0]!.k === "atom" && item.v[0]!.v === key) return item.v[1];
  }
  return undefined;
}

function str(v: Value | undefined, what: string, line: number): string | undefined {
  const x = need(v, what);
  if (x === undefined || x.k === "nil") return undefined;
  if (x.k === "str") return x.v;
  if (x.k === "atom") return x.v;
  throw new SourceError(`mix.exs:${line}: ${what} must be a string`);
}

function strList(v: Value | undefined, what: string, line: number): string[] | undefined {
  const x = need(v, what);
  if (x === undefined) return undefined;
  if (x.k !== "list") throw new SourceError(`mix.exs:${line}: ${what} must be a list of strings`);
  return x.v.map((item) => str(item, what, line)!);
}

export interface MixProject {
  app: string;
  version: string;
  elixir?: string;
  description?: string;
  package: {
    name?: string;
    files?: string[];
    licenses: string[];
    links: Array<[string, string]>;
    buildTools?: string[];
    /** Keys the package does not set (mix hex.build then leaves them out of metadata.config). */
    absent?: Array<"licenses" | "links">;
  };
  requirements: Requirement[];
}

/** Statically reads the project/0 data a Hex package needs from mix.exs source text. */
export function readMixProject(source: string): MixProject {
  let toks: Tok[];
  try {
    toks = tokenize(source);
  } catch (err) {
    throw new SourceError((err as Error).message);
  }
  try {
    return readTokens(toks);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    // Unbalanced brackets and the like, found while evaluating.
    throw new SourceError((err as Error).message);
  }
}

function readTokens(toks: Tok[]): MixProject {
  const mod = scanModule(toks);
  const ev = new Evaluator(mod);
  const projectDef = mod.funcs.get("project")?.find((c) => c.params.length === 0);
  if (!projectDef) throw new SourceError("mix.exs: no `def project` found; is this a Mix project?");
  const project = ev.call("project", [], projectDef.line, "project()");
  const p = need(project, "project/0");
  if (!p || p.k !== "list") throw new SourceError(`mix.exs:${projectDef.line}: project/0 must return a keyword list`);
  const line = projectDef.line;
  if (kwGet(p, "apps_path") !== undefined) throw new SourceError("mix.exs: umbrella projects cannot be published as one Hex package; publish each app from its own directory");
  const app = str(kwGet(p, "app"), "app", line);
  if (!app) throw new SourceError(`mix.exs:${line}: project/0 has no app:`);
  const version = str(kwGet(p, "version"), "version", line);
  if (!version) throw new SourceError(`mix.exs:${line}: project/0 has no version:`);
  const pkg = need(kwGet(p, "package"), "package");
  if (pkg !== undefined && pkg.k !== "list" && pkg.k !== "map") throw new SourceError(`mix.exs:${line}: package must be a keyword list`);
  const linksV = need(kwGet(pkg, "links"), "package links");
  const links: Array<[string, string]> = [];
  if (linksV) {
    const pairs = linksV.k === "map" ? linksV.v : linksV.k === "list" ? linksV.v.map((x) => (x.k === "tuple" ? ([x.v[0], x.v[1]] as [Value, Value]) : null)) : null;
    if (!pairs || pairs.some((x) => x === null)) throw new SourceError(`mix.exs:${line}: package links must be a map of name => url`);
    const keyed = (pairs as Array<[Value, Value]>).map(([k, v]) => ({ atom: need(k, "package links")?.k === "atom", k: str(k, "package links", line)!, v: str(v, "package links", line)! }));
    // Elixir iterates small maps in term order (atom keys before string keys, each sorted), and
    // that is the order mix hex.build writes them in.
    if (linksV.k === "map") keyed.sort((a, b) => (a.atom !== b.atom ? (a.atom ? -1 : 1) : Buffer.compare(Buffer.from(a.k), Buffer.from(b.k))));
    for (const x of keyed) links.push([x.k, x.v]);
  }
  if (kwGet(pkg, "exclude_patterns") !== undefined) {
    const ex = kwGet(pkg, "exclude_patterns")!;
    throw new SourceError(`mix.exs:${ex.k === "dyn" ? ex.line : line}: package exclude_patterns are regular expressions that pkgpub does not evaluate; list the files to include with files: instead, or build the tarball with \`mix hex.build\` and publish it with --tarball`);
  }
  // mix hex.build merges package: over the project's fields, so package's description wins.
  const description = str(kwGet(pkg, "description"), "package description", line) ?? str(kwGet(p, "description"), "description", line);
  const absentKeys = (["licenses", "links"] as const).filter((k) => kwGet(pkg, k) === undefined);
  return {
    app,
    version,
    elixir: str(kwGet(p, "elixir"), "elixir", line),
    description: description?.trim(),
    package: {
      name: str(kwGet(pkg, "name"), "package name", line),
      files: strList(kwGet(pkg, "files"), "package files", line),
      licenses: strList(kwGet(pkg, "licenses"), "package licenses", line) ?? [],
      links,
      buildTools: strList(kwGet(pkg, "build_tools"), "package build_tools", line),
      ...(absentKeys.length > 0 ? { absent: absentKeys } : {}),
    },
    requirements: mixRequirements(need(kwGet(p, "deps"), "deps"), line),
  };
}

const SCM_OPTS = ["git", "github", "path", "in_umbrella"];
const REFUSED_OPTS = ["override", "compile", "manager", "app"];

function mixRequirements(deps: Exclude<Value, { k: "dyn" }> | undefined, projectLine: number): Requirement[] {
  if (deps === undefined) return [];
  let line = projectLine;
  if (deps.k !== "list") throw new SourceError(`mix.exs:${line}: deps must be a list`);
  const out: Requirement[] = [];
  for (const d of deps.v) {
    const dep = need(d, "a dependency");
    if (!dep || dep.k !== "tuple" || dep.v.length < 1 || dep.v.length > 3 || dep.v[0]!.k !== "atom") throw new SourceError(`mix.exs:${line}: each dependency must be a tuple like {:name, "~> 1.0"}`);
    const app = (dep.v[0] as { v: string }).v;
    line = dep.line ?? line;
    const where = `dependency :${app}`;
    let req: Value | undefined;
    let opts: Value | undefined;
    if (dep.v.length === 3) [req, opts] = [dep.v[1], dep.v[2]];
    else if (dep.v.length === 2) {
      const second = dep.v[1]!;
      if (second.k === "list") opts = second;
      else req = second;
    }
    const o = need(opts, `${where} options`);
    if (o !== undefined && o.k !== "list") throw new SourceError(`mix.exs:${line}: ${where} options must be a keyword list`);
    const only = need(kwGet(o, "only"), `${where} only:`);
    if (only !== undefined) {
      const envs = only.k === "list" ? only.v : [only];
      if (!envs.some((e) => e.k === "atom" && e.v === "prod")) continue;
    }
    const hex = str(kwGet(o, "hex"), `${where} hex:`, line);
    const scm = SCM_OPTS.find((k) => kwGet(o, k) !== undefined);
    if (scm && !hex) throw new SourceError(`mix.exs:${line}: ${where} is a ${scm}: dependency; a Hex package can only depend on Hex packages (add only: [:dev, :test] if it is not needed at runtime)`);
    const refused = REFUSED_OPTS.find((k) => kwGet(o, k) !== undefined);
    if (refused) throw new SourceError(`mix.exs:${line}: ${where} uses ${refused}:, which \`mix hex.build\` does not allow in a package`);
    const requirement = str(req, `${where} requirement`, line) ?? ">= 0.0.0";
    const repo = str(kwGet(o, "repo"), `${where} repo:`, line) ?? str(kwGet(o, "organization"), `${where} organization:`, line) ?? "hexpm";
    const optional = need(kwGet(o, "optional"), `${where} optional:`);
    out.push({ name: hex ?? app, app, requirement, optional: optional?.k === "bool" && optional.v, repository: repo.replace(/^[^:]+:/, "") });
  }
  // mix hex.build keeps the order of deps in mix.exs.
  return out;
}

/** What `mix hex.build` would put in the package, from the tree at a tag. */
export async function planMixPackage(tree: SourceTree, tag: string): Promise<PackagePlan> {
  const project = readMixProject(new TextDecoder("utf-8").decode(await tree.read("mix.exs")));
  const tagVersion = versionFromTag(tag);
  if (project.version !== tagVersion) {
    throw new SourceError(`mix.exs: version "${project.version}" does not match the tag ${JSON.stringify(tag)}; tag the commit v${project.version} or change the version`);
  }
  validateVersion(project.version, "mix.exs version");
  const name = project.package.name ?? project.app;
  validatePackageName(name, "mix.exs package name");
  const patterns = project.package.files ?? MIX_DEFAULT_FILES;
  const { files, dirs } = selectEntries(tree.paths, patterns);
  if (project.package.files) {
    for (const pat of project.package.files) {
      if (!/[*?[{]/.test(pat) && selectEntries(tree.paths, [pat]).files.length === 0) throw new SourceError(`mix.exs: package files lists ${JSON.stringify(pat)}, which is not in the repository at ${tag}`);
    }
  }
  if (files.includes("hex_metadata.config")) throw new SourceError("mix.exs: package files must not include hex_metadata.config");
  if (files.length === 0) throw new SourceError(`mix.exs: the package would contain no files (files: ${patterns.join(" ")})`);
  const metadata: HexMetadata = {
    name,
    version: project.version,
    app: project.app,
    ...(project.description !== undefined ? { description: project.description } : {}),
    ...(project.elixir !== undefined ? { elixir: project.elixir } : {}),
    licenses: project.package.licenses,
    links: project.package.links,
    buildTools: project.package.buildTools ?? guessBuildTools(files),
    requirements: project.requirements,
    files: [...files, ...dirs].sort(),
  };
  const absent = project.package.absent ?? [];
  return { metadata, files: await collectFiles(tree, files), layout: { writer: "mix", ...(absent.length > 0 ? { absent } : {}) } };
}
