import { ElixirSyntaxError, tokenize, type Part, type Tok } from "./elixir-tokens.js";
import { SourceError } from "./source.js";

/**
 * A static evaluator for the subset of Elixir that mix.exs project data is written in: literals,
 * keyword lists, maps (atom, string and mixed keys), @attributes, `#{}` interpolation of
 * attributes and literals, `<>`/`++`, local functions (several clauses chosen by literal
 * arguments, as `mix hex.build` runs them with Mix.env() == :prod), `==`/`!=`/`in` and `if`.
 * Anything else becomes a Dynamic value that is only an error when the package needs it, so
 * computed values the package does not use (docs, aliases, releases) do not get in the way.
 * Every evaluation is bounded (steps, nesting, value sizes), so no input makes it run away.
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

/** The environment `mix hex.build` is evaluated in, as issue 10 fixes it for publishing. */
export const MIX_ENV = "prod";

/** Bounds: far beyond any real mix.exs, small enough that hostile input stays cheap. */
export const LIMITS = { steps: 200_000, depth: 100, chars: 1 << 20, items: 100_000 };

interface Clause {
  line: number;
  /** The parameter patterns (tokens each); [] for a zero-arity clause. */
  params: Tok[][];
  guard: boolean;
  body: Tok[];
}

export interface Module {
  attrs: Map<string, Array<{ line: number; value: Tok[] }>>;
  funcs: Map<string, Clause[]>;
}

const OPENERS = new Set(["(", "[", "{", "%{", "<<"]);
const CLOSE = new Set([")", "]", "}", ">>"]);
const COMPARE = new Set(["==", "!=", "===", "!=="]);

function isOpen(t: Tok): boolean {
  return (t.k === "p" && OPENERS.has(t.v)) || (t.k === "ident" && (t.v === "do" || t.v === "fn"));
}
function isClose(t: Tok): boolean {
  return (t.k === "p" && CLOSE.has(t.v)) || (t.k === "ident" && t.v === "end");
}
const TARBALL_FIX = "build the tarball with `mix hex.build` and publish it with --tarball";

const isP = (t: Tok | undefined, v: string): boolean => t !== undefined && t.k === "p" && t.v === v;
const isIdent = (t: Tok | undefined, v: string): boolean => t !== undefined && t.k === "ident" && t.v === v;

/** Index just past the bracket/do-end group that starts at i (i must be an opener). */
export function skipGroup(toks: Tok[], i: number): number {
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
export function exprEnd(toks: Tok[], i: number, stopAtComma: boolean): number {
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

/** Splits tokens at the commas of depth 0. */
function splitCommas(toks: Tok[]): Tok[][] {
  const out: Tok[][] = [];
  let from = 0;
  let j = 0;
  while (j < toks.length) {
    const t = toks[j]!;
    if (isOpen(t)) {
      j = skipGroup(toks, j);
      continue;
    }
    if (isP(t, ",")) {
      out.push(toks.slice(from, j));
      from = j + 1;
    }
    j++;
  }
  if (from < toks.length || out.length > 0) out.push(toks.slice(from));
  return out;
}

export function scanModule(toks: Tok[]): Module {
  const mod: Module = { attrs: new Map(), funcs: new Map() };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const prev = toks[i - 1];
    const atStatement = i === 0 || prev!.k === "nl" || isIdent(prev, "do");
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
      let params: Tok[][] = [];
      if (isP(toks[j], "(")) {
        const end = skipGroup(toks, j);
        params = splitCommas(toks.slice(j + 1, end - 1).filter((x) => x.k !== "nl"));
        j = end;
      } else if (toks[j] && toks[j]!.k !== "ident" && toks[j]!.k !== "p" && toks[j]!.k !== "nl") {
        // `def name arg do`: parameters without parentheses; never a literal clause.
        params = [[toks[j]!]];
      }
      let guard = false;
      if (isIdent(toks[j], "when")) {
        guard = true;
        while (j < toks.length && !isIdent(toks[j], "do") && !(isP(toks[j], ",") && toks[j + 1]?.k === "kw") && toks[j]!.k !== "nl") {
          j = isOpen(toks[j]!) ? skipGroup(toks, j) : j + 1;
        }
      }
      let body: Tok[];
      const next = toks[j];
      if (isIdent(next, "do")) {
        const end = skipGroup(toks, j);
        body = toks.slice(j + 1, end - 1);
        i = end - 1;
      } else if (isP(next, ",") && toks[j + 1]?.k === "kw" && (toks[j + 1] as { v: string }).v === "do") {
        const end = exprEnd(toks, j + 2, false);
        body = toks.slice(j + 2, end);
        i = end - 1;
      } else continue;
      const clauses = mod.funcs.get(nameTok.v) ?? [];
      clauses.push({ line: nameTok.line, params, guard, body });
      mod.funcs.set(nameTok.v, clauses);
    }
  }
  return mod;
}

/** An expression as it reads in mix.exs (its first tokens), for messages. */
export function describe(toks: Tok[]): string {
  const MAX = 20;
  const words = toks.filter((t) => t.k !== "nl");
  let out = "";
  let prev: Tok | undefined;
  for (const t of words.slice(0, MAX)) {
    let s: string;
    switch (t.k) {
      case "str": s = JSON.stringify(t.v); break;
      case "atom": s = `:${t.v}`; break;
      case "kw": s = `${t.v}:`; break;
      case "attr": s = `@${t.v}`; break;
      case "sigil": s = `~${t.letter}`; break;
      case "int":
      case "float": s = String(t.v); break;
      default: s = t.v;
    }
    const p = prev === undefined ? undefined : prev.k === "p" ? prev.v : prev.k;
    const tight =
      out === "" ||
      p === "(" || p === "[" || p === "{" || p === "%{" || p === "." ||
      (t.k === "p" && [")", "]", "}", ",", "."].includes(t.v)) ||
      (t.k === "p" && (t.v === "(" || t.v === "[") && (p === "ident" || p === "alias" || p === "attr" || p === ")" || p === "]"));
    out += (tight ? "" : " ") + s;
    prev = t;
  }
  return words.length > MAX ? `${out} …` : out;
}

function trimNl(toks: Tok[]): Tok[] {
  let a = 0;
  let b = toks.length;
  while (a < b && toks[a]!.k === "nl") a++;
  while (b > a && toks[b - 1]!.k === "nl") b--;
  return toks.slice(a, b);
}

function same(a: Value, b: Value): boolean {
  if (a.k !== b.k) return false;
  if (a.k === "list" || a.k === "tuple") {
    const bv = (b as { v: Value[] }).v;
    return a.v.length === bv.length && a.v.every((x, i) => same(x, bv[i]!));
  }
  if (a.k === "map") return JSON.stringify(a.v) === JSON.stringify((b as { v: unknown }).v);
  return a.k === "nil" || (a as { v: unknown }).v === (b as { v: unknown }).v;
}

const truthy = (v: Value): boolean => !(v.k === "nil" || (v.k === "bool" && !v.v));

/** A dependency tuple that `mix hex.build` leaves out of the package (only: without :prod). */
function nonProdDep(v: Value): boolean {
  if (v.k !== "tuple" || v.v[0]?.k !== "atom") return false;
  const opts = v.v[v.v.length - 1];
  if (!opts || opts.k !== "list") return false;
  for (const o of opts.v) {
    if (o.k === "tuple" && o.v[0]?.k === "atom" && o.v[0].v === "only") {
      const only = o.v[1]!;
      const envs = only.k === "list" ? only.v : [only];
      return envs.every((e) => e.k === "atom") && !envs.some((e) => e.k === "atom" && e.v === MIX_ENV);
    }
  }
  return false;
}

export class Evaluator {
  private calling = new Set<string>();
  private scopes: Array<Map<string, Value>> = [new Map()];
  private attrCache = new Map<string, Value>();
  private steps = 0;
  depth = 0;
  constructor(private readonly mod: Module) {}

  /** Counts work and nesting; refuses input past the bounds instead of running away. */
  step(line: number): void {
    if (++this.steps > LIMITS.steps) throw new SourceError(`mix.exs:${line}: too much to evaluate statically (over ${LIMITS.steps} steps); ${TARBALL_FIX}`);
  }
  enter(line: number): void {
    if (++this.depth > LIMITS.depth) throw new SourceError(`mix.exs:${line}: nested more than ${LIMITS.depth} levels deep; ${TARBALL_FIX}`);
  }
  leave(): void {
    this.depth--;
  }
  checkSize(v: Value, line: number): Value {
    if (v.k === "str" && v.v.length > LIMITS.chars) throw new SourceError(`mix.exs:${line}: a string longer than ${LIMITS.chars} characters; ${TARBALL_FIX}`);
    if (v.k === "list" && v.v.length > LIMITS.items) throw new SourceError(`mix.exs:${line}: a list longer than ${LIMITS.items} items; ${TARBALL_FIX}`);
    return v;
  }

  variable(name: string): Value | undefined {
    return this.scopes[this.scopes.length - 1]!.get(name);
  }

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
    const key = `${name}:${def.line}`;
    const cached = this.attrCache.get(key);
    if (cached) return cached;
    // Attributes are evaluated at module level: no variables of the caller.
    this.scopes.push(new Map());
    try {
      const v = this.eval(def.value, def.line);
      this.attrCache.set(key, v);
      return v;
    } finally {
      this.scopes.pop();
    }
  }

  /** A local call: the first clause whose literal patterns match the arguments. */
  call(name: string, args: Value[], line: number, text: string): Value {
    const clauses = this.mod.funcs.get(name);
    if (!clauses) return { k: "dyn", line, what: args.length === 0 ? `a call of ${name}()` : `the expression \`${text}\`` };
    if (this.calling.has(name)) return { k: "dyn", line, what: `a recursive call of ${name}()` };
    for (const c of clauses) {
      if (c.params.length !== args.length) continue;
      if (c.guard) return { k: "dyn", line: c.line, what: `a call of ${name}, whose clause at line ${c.line} has a guard` };
      const bound = new Map<string, Value>();
      let matched = true;
      for (let i = 0; i < args.length && matched; i++) {
        const m = matchParam(c.params[i]!, args[i]!);
        if (m === "unknown") return { k: "dyn", line: c.line, what: `a call of ${name}, whose clause at line ${c.line} has a pattern pkgpub does not read` };
        if (m === "dynamic") return { k: "dyn", line, what: `the expression \`${text}\`, whose argument is not static` };
        if (m === false) matched = false;
        else if (m !== true) bound.set(m.name, args[i]!);
      }
      if (!matched) continue;
      // A body of several expressions is code, not a literal.
      const body = trimNl(c.body);
      const end = exprEnd(body, 0, false);
      if (end < body.length) return { k: "dyn", line: body[end]?.line ?? c.line, what: `the body of ${name}, which has several expressions` };
      this.calling.add(name);
      this.scopes.push(bound);
      this.enter(line);
      try {
        const v = this.eval(body, c.line);
        return v.k === "dyn" && !v.what.includes(" in ") ? { ...v, what: `${v.what} in ${name}()` } : v;
      } finally {
        this.leave();
        this.scopes.pop();
        this.calling.delete(name);
      }
    }
    return { k: "dyn", line, what: `the expression \`${text}\`, which no clause of ${name} matches` };
  }

  /** A string with `#{}`: attributes and literals only; a call inside is refused with its line. */
  interpolate(parts: Part[], whole: string, line: number): Value {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") out += part;
      else {
        let toks: Tok[];
        try {
          // Lines as in mix.exs, so attributes resolve to the definitions before this string.
          toks = tokenize(part.src).map((t) => ({ ...t, line: t.line + part.line - 1 }));
        } catch {
          return { k: "dyn", line: part.line, what: `the interpolated string ${JSON.stringify(whole)}` };
        }
        const calls = toks.some((t, i) => (t.k === "ident" && !["true", "false", "nil"].includes(t.v) && this.variable(t.v) === undefined) || (t.k === "alias" && isP(toks[i + 1], ".")));
        if (calls) return { k: "dyn", line: toks[0]?.line ?? part.line, what: `the interpolation \`#{${part.src.trim()}}\`, which calls code` };
        this.enter(part.line);
        let v: Value;
        try {
          v = this.eval(toks, part.line);
        } finally {
          this.leave();
        }
        if (v.k === "dyn") return v;
        if (v.k === "str" || v.k === "atom") out += v.v;
        else if (v.k === "num" && Number.isInteger(v.v)) out += String(v.v);
        else if (v.k === "bool") out += String(v.v);
        else if (v.k === "nil") out += "";
        else return { k: "dyn", line: part.line, what: `the interpolation \`#{${part.src.trim()}}\`, which is not a string, atom or integer` };
      }
      if (out.length > LIMITS.chars) throw new SourceError(`mix.exs:${line}: an interpolated string longer than ${LIMITS.chars} characters; ${TARBALL_FIX}`);
    }
    return { k: "str", v: out };
  }

  /** `if`: a static condition picks its branch; otherwise both branches must hold only non-prod deps. */
  ifValue(cond: Value, then: () => Value, otherwise: () => Value, line: number, text: string): Value {
    if (cond.k !== "dyn") return truthy(cond) ? then() : otherwise();
    const a = then();
    const b = otherwise();
    const depsOnly = (v: Value) => v.k === "nil" || (v.k === "list" && v.v.every(nonProdDep));
    if (depsOnly(a) && depsOnly(b)) return { k: "list", v: [...(a.k === "list" ? a.v : []), ...(b.k === "list" ? b.v : [])] };
    return { k: "dyn", line, what: `the expression \`${text}\`` };
  }
}

/** true: matches without binding; {name}: binds; false: does not match. */
function matchParam(pattern: Tok[], arg: Value): boolean | { name: string } | "unknown" | "dynamic" {
  if (pattern.length !== 1) return "unknown";
  const p = pattern[0]!;
  if (p.k === "ident" && !["true", "false", "nil"].includes(p.v)) return p.v.startsWith("_") ? true : { name: p.v };
  let lit: Value;
  if (p.k === "atom" && !p.interp) lit = { k: "atom", v: p.v };
  else if (p.k === "str" && !p.interp) lit = { k: "str", v: p.v };
  else if (p.k === "int") lit = { k: "num", v: p.v };
  else if (p.k === "ident") lit = p.v === "nil" ? { k: "nil" } : { k: "bool", v: p.v === "true" };
  else return "unknown";
  if (arg.k === "dyn") return "dynamic";
  return same(lit, arg);
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
    return isP(this.peek(), v);
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

  private atTerminator(): boolean {
    const t = this.peek();
    return !t || (t.k === "p" && (t.v === "," || CLOSE.has(t.v) || t.v === "=>" || t.v === "|"));
  }

  expr(): Value {
    const start = this.i;
    let v = this.concat();
    const t = this.peek();
    if (t && ((t.k === "p" && COMPARE.has(t.v)) || isIdent(t, "in"))) {
      const op = (t as { v: string }).v;
      this.i++;
      const r = this.concat();
      const text = describe(this.ts.slice(start, this.i));
      if (v.k === "dyn" || r.k === "dyn") v = v.k === "dyn" ? v : r;
      else if (op === "in") v = r.k === "list" ? { k: "bool", v: r.v.some((x) => same(x, v)) } : { k: "dyn", line: this.ts[start]!.line, what: `the expression \`${text}\`` };
      else v = { k: "bool", v: op.startsWith("=") === same(v, r) };
    }
    if (!this.atTerminator()) return this.dynamicFrom(start);
    return v;
  }

  private concat(): Value {
    const start = this.i;
    let v = this.primary();
    while (this.isP("<>") || this.isP("++")) {
      const op = (this.peek() as { v: string }).v;
      this.i++;
      const r = this.primary();
      if (v.k === "dyn") continue;
      if (r.k === "dyn") v = r;
      else if (op === "<>" && v.k === "str" && r.k === "str") v = this.ev.checkSize({ k: "str", v: v.v + r.v }, this.ts[start]!.line);
      else if (op === "++" && v.k === "list" && r.k === "list") v = this.ev.checkSize({ k: "list", v: [...v.v, ...r.v] }, this.ts[start]!.line);
      else v = { k: "dyn", line: this.ts[start]!.line, what: `the expression \`${describe(this.ts.slice(start, this.i))}\`` };
    }
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
      if (items.length + kw.length > LIMITS.items) throw new SourceError(`mix.exs:${t.line}: a list longer than ${LIMITS.items} items; ${TARBALL_FIX}`);
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

  private map(start: number, line: number): Value {
    const entries: Array<[Value, Value]> = [];
    for (;;) {
      const x = this.peek();
      if (!x) throw new ElixirSyntaxError(line, 'missing "}"');
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

  /** The tokens of `if` up to its end, split into condition, do and else parts. */
  private ifParts(): { cond: Tok[]; then: Tok[]; otherwise: Tok[] | undefined } | undefined {
    const ts = this.ts;
    let j = this.i;
    if (isP(ts[j], "(")) {
      const end = skipGroup(ts, j);
      const args = splitCommas(ts.slice(j + 1, end - 1));
      this.i = end;
      return this.ifKeywords(args);
    }
    const from = j;
    while (j < ts.length && !isP(ts[j], ",") && !isIdent(ts[j], "do") && !isClose(ts[j]!)) j = isOpen(ts[j]!) && !isIdent(ts[j], "do") ? skipGroup(ts, j) : j + 1;
    if (isIdent(ts[j], "do")) {
      const end = skipGroup(ts, j);
      const inner = ts.slice(j + 1, end - 1);
      let k = 0;
      while (k < inner.length && !isIdent(inner[k], "else")) k = isOpen(inner[k]!) ? skipGroup(inner, k) : k + 1;
      this.i = end;
      return { cond: ts.slice(from, j), then: inner.slice(0, k), otherwise: k < inner.length ? inner.slice(k + 1) : undefined };
    }
    if (!isP(ts[j], ",")) return undefined;
    // `if c, do: a, else: b` ends at the first comma (or closer) not followed by do:/else:.
    const branchKw = (k: number) => ts[k + 1]?.k === "kw" && ["do", "else"].includes((ts[k + 1] as { v: string }).v);
    let e = j + 1;
    while (e < ts.length && !isClose(ts[e]!) && !(isP(ts[e], ",") && !branchKw(e))) e = isOpen(ts[e]!) ? skipGroup(ts, e) : e + 1;
    this.i = e;
    return this.ifKeywords(splitCommas(ts.slice(from, e)));
  }

  private ifKeywords(args: Tok[][]): { cond: Tok[]; then: Tok[]; otherwise: Tok[] | undefined } | undefined {
    const [cond, d, el] = args;
    const kwOf = (a: Tok[] | undefined, name: string) => (a && a[0]?.k === "kw" && a[0].v === name ? a.slice(1) : undefined);
    const then = kwOf(d, "do");
    if (!cond || !then || args.length > 3) return undefined;
    const otherwise = kwOf(el, "else");
    if (el !== undefined && otherwise === undefined) return undefined;
    return { cond, then, otherwise };
  }

  private primary(): Value {
    const t = this.peek();
    if (!t) return { k: "dyn", line: 0, what: "nothing" };
    this.ev.step(t.line);
    this.ev.enter(t.line);
    try {
      return this.primaryInner(t);
    } finally {
      this.ev.leave();
    }
  }

  private primaryInner(t: Tok): Value {
    const start = this.i;
    this.i++;
    switch (t.k) {
      case "str":
        if (t.interp) return t.parts ? this.ev.interpolate(t.parts, t.v, t.line) : { k: "dyn", line: t.line, what: `the interpolated string ${JSON.stringify(t.v)}` };
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
      case "alias": {
        // Mix.env() is the one remote call with a known value when mix hex.build runs.
        if (t.v === "Mix" && isP(this.peek(), ".") && isIdent(this.ts[this.i + 1], "env")) {
          this.i += 2;
          if (this.isP("(") && isP(this.ts[this.i + 1], ")")) this.i += 2;
          return { k: "atom", v: MIX_ENV };
        }
        return this.dynamicFrom(start);
      }
      case "ident": {
        if (t.v === "true" || t.v === "false") return { k: "bool", v: t.v === "true" };
        if (t.v === "nil") return { k: "nil" };
        if (t.v === "if") {
          const parts = this.ifParts();
          if (!parts) return this.dynamicFrom(start);
          const text = describe(this.ts.slice(start, this.i));
          const cond = this.ev.eval(parts.cond, t.line);
          const branch = (b: Tok[] | undefined) => () => (b === undefined ? ({ k: "nil" } as Value) : this.ev.eval(b, t.line));
          return this.ev.ifValue(cond, branch(parts.then), branch(parts.otherwise), t.line, text);
        }
        const bound = this.ev.variable(t.v);
        if (bound !== undefined) return bound;
        const n = this.peek();
        if (isP(n, "(")) {
          const end = skipGroup(this.ts, this.i);
          const text = describe(this.ts.slice(start, end));
          this.i++;
          const args = this.seq(")");
          this.i = end;
          return this.ev.call(t.v, args, t.line, text);
        }
        if (!n || (n.k === "p" && (n.v === "," || CLOSE.has(n.v)))) return this.ev.call(t.v, [], t.line, t.v);
        return this.dynamicFrom(start);
      }
      case "p": {
        if (t.v === "[") return this.ev.checkSize({ k: "list", v: this.seq("]") }, t.line);
        if (t.v === "{") return { k: "tuple", v: this.seq("}"), line: t.line };
        if (t.v === "%{") return this.map(start, t.line);
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
