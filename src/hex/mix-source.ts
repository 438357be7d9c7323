import { ElixirSyntaxError, tokenize, type Tok } from "./elixir-tokens.js";
import { guessBuildTools, MIX_DEFAULT_FILES, selectFiles } from "./files.js";
import { validatePackageName, validateVersion, type HexMetadata, type Requirement } from "./metadata.js";
import { collectFiles, SourceError, versionFromTag, type PackagePlan, type SourceTree } from "./source.js";

/**
 * Reads mix.exs without running Elixir: literal keyword lists, @attributes, zero-arity
 * functions returning literals, ~w sigils and `<>`/`++` of literals. Everything else becomes a
 * Dynamic value that is only an error when the package needs it, so computed values the package
 * does not use (docs, aliases, start_permanent) do not get in the way.
 */

export type Value =
  | { k: "str"; v: string }
  | { k: "atom"; v: string }
  | { k: "num"; v: number }
  | { k: "bool"; v: boolean }
  | { k: "nil" }
  | { k: "list"; v: Value[] }
  | { k: "tuple"; v: Value[]; line?: number }
  | { k: "map"; v: Array<[Value, Value]> }
  | { k: "dyn"; line: number; what: string };

const HOW_TO_FIX =
  "pkgpub reads mix.exs without running Elixir, so write a literal here, or build the tarball with `mix hex.build` (for example in the pkgpub GitHub Action) and publish it with --tarball";

interface FunctionDef {
  line: number;
  args: boolean;
  body: Tok[];
}

interface Module {
  attrs: Map<string, Array<{ line: number; value: Tok[] }>>;
  funcs: Map<string, FunctionDef>;
}

const OPENERS = new Set(["(", "[", "{", "%{", "<<"]);
const CLOSE = new Set([")", "]", "}", ">>"]);

function isOpen(t: Tok): boolean {
  return (t.k === "p" && OPENERS.has(t.v)) || (t.k === "ident" && (t.v === "do" || t.v === "fn"));
}
function isClose(t: Tok): boolean {
  return (t.k === "p" && CLOSE.has(t.v)) || (t.k === "ident" && t.v === "end");
}

/** Index just past the bracket/do-end group that starts at i (i must be an opener). */
function skipGroup(toks: Tok[], i: number): number {
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    const t = toks[j]!;
    if (isOpen(t)) depth++;
    else if (isClose(t)) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  throw new ElixirSyntaxError(toks[i]!.line, "unbalanced brackets or do/end");
}

/** Index of the end of the expression starting at i: the next newline/comma/closer at depth 0. */
function exprEnd(toks: Tok[], i: number, stopAtComma: boolean): number {
  let j = i;
  while (j < toks.length) {
    const t = toks[j]!;
    if (isOpen(t)) {
      j = skipGroup(toks, j);
      continue;
    }
    if (isClose(t)) return j;
    if (t.k === "nl") {
      // A line ending in an operator continues on the next line.
      const prev = toks[j - 1];
      if (prev && prev.k === "p" && !CLOSE.has(prev.v)) {
        j++;
        continue;
      }
      return j;
    }
    if (stopAtComma && t.k === "p" && t.v === ",") return j;
    j++;
  }
  return j;
}

function scanModule(toks: Tok[]): Module {
  const mod: Module = { attrs: new Map(), funcs: new Map() };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const atStatement = i === 0 || toks[i - 1]!.k === "nl" || (toks[i - 1]!.k === "ident" && (toks[i - 1] as { v: string }).v === "do");
    if (t.k === "attr" && atStatement) {
      const end = exprEnd(toks, i + 1, false);
      const list = mod.attrs.get(t.v) ?? [];
      list.push({ line: t.line, value: toks.slice(i + 1, end) });
      mod.attrs.set(t.v, list);
      i = end - 1;
      continue;
    }
    if (t.k === "ident" && (t.v === "def" || t.v === "defp") && atStatement) {
      const nameTok = toks[i + 1];
      if (!nameTok || nameTok.k !== "ident") continue;
      let j = i + 2;
      let args = false;
      if (toks[j]?.k === "p" && (toks[j] as { v: string }).v === "(") {
        const end = skipGroup(toks, j);
        args = end - j > 2;
        j = end;
      } else if (toks[j] && toks[j]!.k !== "ident" && toks[j]!.k !== "p" && toks[j]!.k !== "nl") {
        args = true;
      }
      let body: Tok[];
      const next = toks[j];
      if (next?.k === "ident" && next.v === "do") {
        const end = skipGroup(toks, j);
        body = toks.slice(j + 1, end - 1);
        i = end - 1;
      } else if (next?.k === "p" && next.v === "," && toks[j + 1]?.k === "kw" && (toks[j + 1] as { v: string }).v === "do") {
        const end = exprEnd(toks, j + 2, false);
        body = toks.slice(j + 2, end);
        i = end - 1;
      } else if (next?.k === "ident" && next.v === "when") {
        args = true;
        continue;
      } else continue;
      // A later clause of the same name makes it a multi-clause function: not a literal.
      const existing = mod.funcs.get(nameTok.v);
      mod.funcs.set(nameTok.v, existing ? { ...existing, args: true } : { line: nameTok.line, args, body });
    }
  }
  return mod;
}

function describe(toks: Tok[]): string {
  const words = toks
    .filter((t) => t.k !== "nl")
    .slice(0, 8)
    .map((t) => {
      switch (t.k) {
        case "str": return JSON.stringify(t.v);
        case "atom": return `:${t.v}`;
        case "kw": return `${t.v}:`;
        case "attr": return `@${t.v}`;
        case "sigil": return `~${t.letter}`;
        case "int":
        case "float": return String(t.v);
        default: return t.v;
      }
    });
  return words.join(" ").replace(/ ([.(),\]}]) ?/g, "$1").replace(/([([{]) /g, "$1");
}

class Evaluator {
  private calling = new Set<string>();
  constructor(private readonly mod: Module) {}

  /** Evaluates the tokens of one expression. */
  eval(toks: Tok[], line: number): Value {
    const ts = toks.filter((t) => t.k !== "nl");
    if (ts.length === 0) return { k: "dyn", line, what: "empty" };
    const p = new Parser(ts, this);
    const v = p.expr();
    if (!p.atEnd()) return { k: "dyn", line: ts[0]!.line, what: `the expression \`${describe(ts)}\`` };
    return v;
  }

  attr(name: string, line: number): Value {
    const defs = (this.mod.attrs.get(name) ?? []).filter((d) => d.line < line);
    const def = defs[defs.length - 1];
    if (!def) return { k: "dyn", line, what: `@${name}, which is not set before this line` };
    return this.eval(def.value, def.line);
  }

  call(name: string, line: number): Value {
    const f = this.mod.funcs.get(name);
    if (!f) return { k: "dyn", line, what: `a call of ${name}()` };
    if (f.args) return { k: "dyn", line, what: `a call of ${name}, a function with arguments or several clauses` };
    if (this.calling.has(name)) return { k: "dyn", line, what: `a recursive call of ${name}()` };
    // A body of several expressions is code, not a literal.
    const body = trimNl(f.body);
    const end = exprEnd(body, 0, false);
    if (end < body.length) return { k: "dyn", line: body[end]?.line ?? f.line, what: `the body of ${name}, which has several expressions` };
    this.calling.add(name);
    try {
      const v = this.eval(body, f.line);
      return v.k === "dyn" && !v.what.includes(" in ") ? { ...v, what: `${v.what} in ${name}()` } : v;
    } finally {
      this.calling.delete(name);
    }
  }
}

function trimNl(toks: Tok[]): Tok[] {
  let a = 0;
  let b = toks.length;
  while (a < b && toks[a]!.k === "nl") a++;
  while (b > a && toks[b - 1]!.k === "nl") b--;
  return toks.slice(a, b);
}

class Parser {
  private i = 0;
  constructor(private readonly ts: Tok[], private readonly ev: Evaluator) {}

  atEnd(): boolean {
    return this.i >= this.ts.length;
  }
  private peek(): Tok | undefined {
    return this.ts[this.i];
  }
  private isP(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.k === "p" && t.v === v;
  }

  /** Skips to the end of the current element and reports it as dynamic. */
  private dynamicFrom(start: number, what?: string): Value {
    let j = start;
    while (j < this.ts.length) {
      const t = this.ts[j]!;
      if (isOpen(t)) {
        j = skipGroup(this.ts, j);
        continue;
      }
      if (isClose(t) || (t.k === "p" && t.v === ",")) break;
      j++;
    }
    const span = this.ts.slice(start, j);
    this.i = j;
    return { k: "dyn", line: span[0]?.line ?? this.ts[start - 1]?.line ?? 0, what: what ?? `the expression \`${describe(span)}\`` };
  }

  expr(): Value {
    const start = this.i;
    let v = this.primary();
    while (this.isP("<>") || this.isP("++")) {
      const op = (this.peek() as { v: string }).v;
      this.i++;
      const r = this.primary();
      if (v.k === "dyn") continue;
      if (r.k === "dyn") v = r;
      else if (op === "<>" && v.k === "str" && r.k === "str") v = { k: "str", v: v.v + r.v };
      else if (op === "++" && v.k === "list" && r.k === "list") v = { k: "list", v: [...v.v, ...r.v] };
      else v = { k: "dyn", line: this.ts[start]!.line, what: `the expression \`${describe(this.ts.slice(start, this.i))}\`` };
    }
    const t = this.peek();
    if (t && !(t.k === "p" && (t.v === "," || CLOSE.has(t.v) || t.v === "=>" || t.v === "|"))) return this.dynamicFrom(start);
    return v;
  }

  private seq(close: string): Value[] {
    const items: Value[] = [];
    const kw: Value[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) throw new ElixirSyntaxError(this.ts[this.ts.length - 1]!.line, `missing "${close}"`);
      if (t.k === "p" && t.v === close) {
        this.i++;
        break;
      }
      if (t.k === "kw") {
        this.i++;
        kw.push({ k: "tuple", v: [{ k: "atom", v: t.v }, this.expr()] });
      } else items.push(this.expr());
      if (this.isP(",")) this.i++;
      else if (!this.isP(close)) {
        const bad = this.peek()!;
        return [...items, this.dynamicFrom(this.i, `the expression near \`${describe([bad])}\``)];
      }
    }
    // A trailing keyword list without brackets: [a, b: 1] / {:dep, "~> 1", only: :test}.
    if (kw.length > 0) {
      if (close === "]" && items.length === 0) return kw;
      items.push({ k: "list", v: kw });
    }
    return items;
  }

  private primary(): Value {
    const t = this.peek();
    if (!t) return { k: "dyn", line: 0, what: "nothing" };
    const start = this.i;
    this.i++;
    switch (t.k) {
      case "str":
        if (t.interp) return { k: "dyn", line: t.line, what: `the interpolated string ${JSON.stringify(t.v)}` };
        return { k: "str", v: t.v };
      case "atom":
        if (t.interp) return { k: "dyn", line: t.line, what: "an interpolated atom" };
        return { k: "atom", v: t.v };
      case "int":
      case "float":
        return { k: "num", v: t.v };
      case "sigil": {
        if (t.interp) return { k: "dyn", line: t.line, what: `the interpolated sigil ~${t.letter}` };
        if (t.letter === "w" || t.letter === "W") {
          const words = t.v.split(/\s+/).filter(Boolean);
          if (t.mods === "a") return { k: "list", v: words.map((w) => ({ k: "atom", v: w }) as Value) };
          if (t.mods === "" || t.mods === "s" || t.mods === "c") return { k: "list", v: words.map((w) => ({ k: "str", v: w }) as Value) };
        }
        if ((t.letter === "s" || t.letter === "S") && t.mods === "") return { k: "str", v: t.v };
        return { k: "dyn", line: t.line, what: `the sigil ~${t.letter}${t.mods}` };
      }
      case "attr":
        return this.ev.attr(t.v, t.line);
      case "ident": {
        if (t.v === "true" || t.v === "false") return { k: "bool", v: t.v === "true" };
        if (t.v === "nil") return { k: "nil" };
        const n = this.peek();
        if (n && n.k === "p" && n.v === "(") {
          const end = skipGroup(this.ts, this.i);
          if (end - this.i === 2) {
            this.i = end;
            return this.ev.call(t.v, t.line);
          }
          return this.dynamicFrom(start);
        }
        if (!n || (n.k === "p" && (n.v === "," || CLOSE.has(n.v)))) return this.ev.call(t.v, t.line);
        return this.dynamicFrom(start);
      }
      case "p": {
        if (t.v === "[") return { k: "list", v: this.seq("]") };
        if (t.v === "{") return { k: "tuple", v: this.seq("}"), line: t.line };
        if (t.v === "%{") {
          const entries: Array<[Value, Value]> = [];
          for (;;) {
            const x = this.peek();
            if (!x) throw new ElixirSyntaxError(t.line, 'missing "}"');
            if (x.k === "p" && x.v === "}") {
              this.i++;
              return { k: "map", v: entries };
            }
            if (x.k === "kw") {
              this.i++;
              entries.push([{ k: "atom", v: x.v }, this.expr()]);
            } else {
              const key = this.expr();
              if (!this.isP("=>")) return this.dynamicFrom(start, "a map that is not literal");
              this.i++;
              entries.push([key, this.expr()]);
            }
            if (this.isP(",")) this.i++;
            else if (!this.isP("}")) return this.dynamicFrom(start, "a map that is not literal");
          }
        }
        if (t.v === "-" && (this.peek()?.k === "int" || this.peek()?.k === "float")) {
          return { k: "num", v: -(this.ts[this.i++] as { v: number }).v };
        }
        return this.dynamicFrom(start);
      }
      default:
        return this.dynamicFrom(start);
    }
  }
}

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
  const mod = scanModule(toks);
  const ev = new Evaluator(mod);
  const projectDef = mod.funcs.get("project");
  if (!projectDef) throw new SourceError("mix.exs: no `def project` found; is this a Mix project?");
  const project = ev.call("project", projectDef.line);
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
    for (const [k, v] of pairs as Array<[Value, Value]>) links.push([str(k, "package links", line)!, str(v, "package links", line)!]);
    // Elixir iterates small maps in key order, so that is the order mix hex.build writes.
    if (linksV.k === "map") links.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  if (kwGet(pkg, "exclude_patterns") !== undefined) {
    const ex = kwGet(pkg, "exclude_patterns")!;
    throw new SourceError(`mix.exs:${ex.k === "dyn" ? ex.line : line}: package exclude_patterns are regular expressions that pkgpub does not evaluate; list the files to include with files: instead, or build the tarball with \`mix hex.build\` and publish it with --tarball`);
  }
  const description = str(kwGet(p, "description"), "description", line);
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
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
  const files = selectFiles(tree.paths, patterns);
  if (project.package.files) {
    for (const pat of project.package.files) {
      if (!/[*?[{]/.test(pat) && selectFiles(tree.paths, [pat]).length === 0) throw new SourceError(`mix.exs: package files lists ${JSON.stringify(pat)}, which is not in the repository at ${tag}`);
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
    files,
  };
  return { metadata, files: await collectFiles(tree, files) };
}
