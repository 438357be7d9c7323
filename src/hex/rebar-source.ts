import { formatTerm, keyName, lookup, parseTerms, termText, type Term } from "./erlang-terms.js";
import { REBAR_DEFAULT_FILES, selectEntries } from "./files.js";
import { validatePackageName, validateVersion, type HexMetadata, type Requirement } from "./metadata.js";
import { collectFiles, SourceError, versionFromTag, type PackagePlan, type SourceTree } from "./source.js";

const text = (b: Uint8Array) => new TextDecoder("utf-8").decode(b);

async function consult(tree: SourceTree, path: string): Promise<Term[]> {
  try {
    return parseTerms(text(await tree.read(path)), path);
  } catch (err) {
    throw new SourceError((err as Error).message);
  }
}

function textList(t: Term | undefined, where: string): string[] {
  if (t === undefined) return [];
  if (t.t !== "list") throw new SourceError(`${where} must be a list of strings`);
  return t.v.map((x) => {
    const s = termText(x) ?? (x.t === "atom" ? x.v : undefined);
    if (s === undefined) throw new SourceError(`${where} must be a list of strings`);
    return s;
  });
}

export function isRebarProject(tree: SourceTree): boolean {
  return tree.paths.some((p) => /^src\/[^/]+\.app\.src$/.test(p)) && !tree.paths.includes("mix.exs");
}

/**
 * What rebar3_hex would build from a tagged rebar3 project: metadata from src/APP.app.src,
 * requirements from the level-0 packages of rebar.lock (with rebar.config's requirement strings),
 * and its default file selection. `{vsn, git}` resolves to the tag.
 */
export async function planRebarPackage(tree: SourceTree, tag: string): Promise<PackagePlan> {
  const appSrcs = tree.paths.filter((p) => /^src\/[^/]+\.app\.src$/.test(p));
  if (appSrcs.length !== 1) throw new SourceError(appSrcs.length === 0 ? "no src/<app>.app.src: not a rebar3 project" : `more than one .app.src in src/: ${appSrcs.join(", ")}`);
  const appSrcPath = appSrcs[0]!;
  if (tree.paths.includes("rebar.config.script")) {
    throw new SourceError("rebar.config.script computes the configuration at build time: build the tarball with `rebar3 hex build` and publish it with --tarball");
  }
  if (tree.paths.some((p) => p === `${appSrcPath}.script`)) {
    throw new SourceError(`${appSrcPath}.script computes the application at build time: build the tarball with \`rebar3 hex build\` and publish it with --tarball`);
  }
  const terms = await consult(tree, appSrcPath);
  const app = terms[0];
  if (terms.length !== 1 || !app || app.t !== "tuple" || app.v.length !== 3 || keyName(app.v[0]!) !== "application" || app.v[1]!.t !== "atom" || app.v[2]!.t !== "list") {
    throw new SourceError(`${appSrcPath}: expected one term {application, Name, [Properties]}`);
  }
  const appName = (app.v[1] as { v: string }).v;
  const props = app.v[2]!;
  const tagVersion = versionFromTag(tag);
  const vsnTerm = lookup(props, "vsn");
  let version: string;
  let regenerate = false;
  if (vsnTerm === undefined) throw new SourceError(`${appSrcPath}: no vsn`);
  if (vsnTerm.t === "atom" && vsnTerm.v === "git") {
    version = tagVersion;
    regenerate = true;
  } else {
    const literal = termText(vsnTerm);
    if (literal === undefined) throw new SourceError(`${appSrcPath}: vsn ${formatTerm(vsnTerm)} is computed at build time; use a string or git, or publish a tarball from \`rebar3 hex build\` with --tarball`);
    version = literal;
    if (version !== tagVersion) throw new SourceError(`${appSrcPath}: vsn "${version}" does not match the tag ${JSON.stringify(tag)}; tag the commit v${version} or set {vsn, "${tagVersion}"}`);
  }
  validateVersion(version, `${appSrcPath} vsn`);
  const pkgName = termText(lookup(props, "pkg_name")) ?? (lookup(props, "pkg_name")?.t === "atom" ? (lookup(props, "pkg_name") as { v: string }).v : appName);
  validatePackageName(pkgName, `${appSrcPath} package name`);

  const requirements = await rebarRequirements(tree);
  const linksTerm = lookup(props, "links");
  const links: Array<[string, string]> = [];
  if (linksTerm?.t === "list") {
    for (const l of linksTerm.v) {
      const k = l.t === "tuple" ? termText(l.v[0]) : undefined;
      const v = l.t === "tuple" ? termText(l.v[1]) : undefined;
      if (k === undefined || v === undefined) throw new SourceError(`${appSrcPath}: links must be a list of {"Name", "Url"}`);
      links.push([k, v]);
    }
    // rebar3_hex turns links into a map, which hex_core writes in key order.
    links.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  }
  const patterns = lookup(props, "files") ? textList(lookup(props, "files"), `${appSrcPath} files`) : [...REBAR_DEFAULT_FILES, ...textList(lookup(props, "include_files"), `${appSrcPath} include_files`)];
  const excludeFiles = new Set(textList(lookup(props, "exclude_files"), `${appSrcPath} exclude_files`));
  const excludeRes = textList(lookup(props, "exclude_regexps"), `${appSrcPath} exclude_regexps`).map((r) => new RegExp(r));
  const entries = selectEntries(tree.paths, patterns, { rebar: true, exclude: excludeRes });
  const selected = entries.files.filter((p) => !excludeFiles.has(p));
  if (!selected.includes(appSrcPath)) selected.push(appSrcPath);
  // rebar3_hex lists the directories it walked too (src, src/sub, priv, …).
  const dirs = entries.dirs.filter((p) => !excludeFiles.has(p));
  const replace = new Map<string, Uint8Array>();
  if (regenerate) {
    // rebar3_hex ships the .app.src rewritten with the resolved vsn.
    const newProps: Term = { t: "list", v: props.v.map((p) => (p.t === "tuple" && keyName(p.v[0]!) === "vsn" ? { t: "tuple", v: [p.v[0]!, { t: "str", v: version }] } : p)) };
    replace.set(appSrcPath, new TextEncoder().encode(`${formatTerm({ t: "tuple", v: [app.v[0]!, app.v[1]!, newProps] })}.\n`));
  }
  const metadata: HexMetadata = {
    name: pkgName,
    version,
    app: appName,
    description: termText(lookup(props, "description")) ?? "",
    licenses: textList(lookup(props, "licenses"), `${appSrcPath} licenses`),
    links,
    buildTools: lookup(props, "build_tools") ? textList(lookup(props, "build_tools"), `${appSrcPath} build_tools`) : ["rebar3"],
    requirements: requirements.list,
    files: [...selected, ...dirs].sort(),
  };
  // rebar3_hex drops the optional keys whose value is empty.
  const absent = [...(metadata.description === "" ? (["description"] as const) : []), ...(metadata.licenses.length === 0 ? (["licenses"] as const) : []), ...(links.length === 0 ? (["links"] as const) : [])];
  return {
    metadata,
    files: await collectFiles(tree, selected.sort(), replace),
    layout: { writer: "rebar3", ...(absent.length > 0 ? { absent } : {}) },
    ...(requirements.note ? { notes: [requirements.note] } : {}),
  };
}

const NO_LOCK_FIX = "commit rebar.lock (run `rebar3 lock`) so the resolved versions are known, or give each Hex dependency a version in rebar.config, like {cowboy, \"~> 2.10\"}";

interface ConfigDep {
  app: string;
  /** The requirement when the dep is {App, "Requirement"}: what rebar3_hex writes as given. */
  requirement?: string;
  /** Why the lock is needed, or why it is not a Hex package. */
  problem?: string;
  nonHex?: string;
}

/** The default profile's deps of rebar.config, as rebar3_hex reads them against the lock. */
function configDeps(deps: Term): ConfigDep[] {
  if (deps.t !== "list") throw new SourceError("rebar.config: deps must be a list");
  return deps.v.map((d): ConfigDep => {
    if (d.t === "atom") return { app: d.v, problem: `dependency ${d.v} has no version requirement` };
    if (d.t !== "tuple" || d.v[0]?.t !== "atom") throw new SourceError(`rebar.config: dependency ${formatTerm(d)} is not an atom or a tuple {Name, …}`);
    const app = d.v[0].v;
    const source = d.v.find((x, i) => i > 0 && x.t === "tuple");
    const kind = source?.t === "tuple" ? keyName(source.v[0]!) : undefined;
    if (kind !== undefined && kind !== "pkg") return { app, nonHex: `${app} is a ${kind} dependency` };
    const req = d.v.length === 2 ? termText(d.v[1]) : undefined;
    // rebar3_hex takes the requirement only from {App, "Req"}; {App, "Req", {pkg, Name}} and
    // {App, {pkg, Name}} get "~>" and the locked version.
    if (req !== undefined) return { app, requirement: req };
    return { app, problem: kind === "pkg" ? `dependency ${app} names its package with {pkg, …}, so rebar3_hex writes the locked version` : `dependency ${app} has no version requirement` };
  });
}

async function rebarRequirements(tree: SourceTree): Promise<{ list: Requirement[]; note?: string }> {
  let deps: ConfigDep[] = [];
  if (tree.paths.includes("rebar.config")) {
    const d = lookup({ t: "list", v: await consult(tree, "rebar.config") }, "deps");
    if (d !== undefined) deps = configDeps(d);
  }
  if (!tree.paths.includes("rebar.lock")) {
    // Without a lock, rebar3 hex build locks first; with a requirement string for each Hex dep,
    // that is the requirement rebar3_hex writes whatever the lock resolves.
    const nonHex = deps.filter((d) => d.nonHex);
    if (nonHex.length > 0) throw new SourceError(`rebar.config: ${nonHex.map((d) => d.nonHex).join(", ")}; a Hex package can only depend on Hex packages (move it to a profile if it is not needed at runtime)`);
    const unknown = deps.find((d) => d.problem);
    if (unknown) throw new SourceError(`rebar.config: ${unknown.problem} and there is no rebar.lock; ${NO_LOCK_FIX}`);
    const list = deps.map((d) => ({ name: d.app, app: d.app, requirement: d.requirement!, optional: false })).sort((a, b) => (a.name < b.name ? -1 : 1));
    return { list, ...(list.length > 0 ? { note: "no rebar.lock: requirements taken from rebar.config as written" } : {}) };
  }
  const configured = new Map(deps.filter((d) => d.requirement !== undefined).map((d) => [d.app, d.requirement!]));
  const lock = await consult(tree, "rebar.lock");
  const first = lock[0];
  // {"1.2.0", [Deps]} since rebar3 3.5; a bare [Deps] before.
  const entries = first?.t === "tuple" && first.v[1]?.t === "list" ? first.v[1].v : first?.t === "list" ? first.v : [];
  const out: Requirement[] = [];
  const nonHex: string[] = [];
  for (const e of entries) {
    if (e.t !== "tuple" || e.v.length < 3) throw new SourceError("rebar.lock: unexpected entry");
    const app = termText(e.v[0]) ?? "";
    const source = e.v[1]!;
    const level = e.v[2]!;
    if (level.t !== "int" || level.v !== 0) continue;
    if (source.t !== "tuple" || keyName(source.v[0]!) !== "pkg") {
      nonHex.push(app);
      continue;
    }
    const name = termText(source.v[1]) ?? app;
    const locked = termText(source.v[2]) ?? "";
    out.push({ name, app, requirement: configured.get(app) ?? `~>${locked}`, optional: false });
  }
  if (nonHex.length > 0) throw new SourceError(`rebar.lock: ${nonHex.join(", ")} ${nonHex.length === 1 ? "is not a Hex package" : "are not Hex packages"}; a Hex package can only depend on Hex packages`);
  return { list: out.sort((a, b) => (a.name < b.name ? -1 : 1)) };
}
