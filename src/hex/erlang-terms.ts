/**
 * Erlang term text as found in metadata.config, *.app.src, rebar.config and rebar.lock: a
 * sequence of terms each ended by ".". Only data terms are read (no expressions, no variables);
 * anything else is an error naming the line.
 */

export type Term =
  | { t: "atom"; v: string }
  | { t: "bin"; v: Uint8Array }
  | { t: "str"; v: string }
  | { t: "int"; v: number }
  | { t: "float"; v: number }
  | { t: "list"; v: Term[] }
  | { t: "tuple"; v: Term[] }
  | { t: "map"; v: Array<[Term, Term]> };

export class TermSyntaxError extends Error {
  override name = "TermSyntaxError";
  constructor(readonly file: string, readonly line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
  }
}

type Tok =
  | { k: "atom"; v: string; line: number }
  | { k: "str"; v: string; line: number }
  | { k: "int"; v: number; line: number }
  | { k: "float"; v: number; line: number }
  | { k: "var"; v: string; line: number }
  | { k: "p"; v: string; line: number }
  | { k: "end"; line: number };

const PUNCT = ["<<", ">>", "#{", "=>", ":=", "{", "}", "[", "]", "(", ")", ",", "|", "/", ":", "-", "+", "#"];

function tokenize(text: string, file: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const err = (d: string): never => {
    throw new TermSyntaxError(file, line, d);
  };
  const readEscape = (): string => {
    const c = text[i++];
    if (c === undefined) err("unterminated escape");
    switch (c) {
      case "b": return "\b";
      case "d": return "\x7f";
      case "e": return "\x1b";
      case "f": return "\f";
      case "n": return "\n";
      case "r": return "\r";
      case "s": return " ";
      case "t": return "\t";
      case "v": return "\v";
      case "^": {
        const x = text[i++] ?? err("unterminated escape");
        return String.fromCharCode(x.charCodeAt(0) & 31);
      }
      case "x": {
        if (text[i] === "{") {
          const close = text.indexOf("}", i);
          if (close < 0) err("unterminated \\x{...} escape");
          const cp = parseInt(text.slice(i + 1, close), 16);
          i = close + 1;
          return String.fromCodePoint(cp);
        }
        const hex = text.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) err("bad \\x escape");
        i += 2;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        if (/[0-7]/.test(c!)) {
          let digits = c!;
          while (digits.length < 3 && /[0-7]/.test(text[i] ?? "")) digits += text[i++];
          return String.fromCharCode(parseInt(digits, 8));
        }
        if (c === "\n") line++;
        return c!;
    }
  };
  const readQuoted = (q: string): string => {
    let s = "";
    for (;;) {
      const c = text[i++];
      if (c === undefined) err(`unterminated ${q === '"' ? "string" : "quoted atom"}`);
      if (c === q) return s;
      if (c === "\\") s += readEscape();
      else {
        if (c === "\n") line++;
        s += c;
      }
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "%") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const start = line;
    if (c === '"') {
      i++;
      toks.push({ k: "str", v: readQuoted('"'), line: start });
      continue;
    }
    if (c === "'") {
      i++;
      toks.push({ k: "atom", v: readQuoted("'"), line: start });
      continue;
    }
    if (c === "$") {
      i++;
      let ch = text[i++] ?? err("unterminated character literal");
      if (ch === "\\") ch = readEscape();
      toks.push({ k: "int", v: ch.codePointAt(0)!, line: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(\d+)#([0-9a-zA-Z]+)|^\d+(\.\d+([eE][+-]?\d+)?)?/.exec(text.slice(i))!;
      i += m[0].length;
      if (m[1] !== undefined) toks.push({ k: "int", v: parseInt(m[2]!, parseInt(m[1], 10)), line: start });
      else if (m[2] !== undefined || m[0].includes(".")) toks.push({ k: "float", v: parseFloat(m[0]), line: start });
      else toks.push({ k: "int", v: parseInt(m[0], 10), line: start });
      continue;
    }
    if (/[a-z]/.test(c)) {
      const m = /^[a-zA-Z0-9_@]+/.exec(text.slice(i))!;
      i += m[0].length;
      toks.push({ k: "atom", v: m[0], line: start });
      continue;
    }
    if (/[A-Z_]/.test(c)) {
      const m = /^[a-zA-Z0-9_@]+/.exec(text.slice(i))!;
      i += m[0].length;
      toks.push({ k: "var", v: m[0], line: start });
      continue;
    }
    if (c === "." && (i + 1 >= text.length || /[\s%]/.test(text[i + 1]!))) {
      i++;
      toks.push({ k: "end", line: start });
      continue;
    }
    const p = PUNCT.find((x) => text.startsWith(x, i));
    if (!p) err(`unexpected character ${JSON.stringify(c)}`);
    i += p!.length;
    toks.push({ k: "p", v: p!, line: start });
  }
  return toks;
}

const utf8 = new TextEncoder();

const MAX_DEPTH = 1000;

/** Parses every term in the text. */
export function parseTerms(text: string, file: string): Term[] {
  const toks = tokenize(text, file);
  let pos = 0;
  const lastLine = () => toks[toks.length - 1]?.line ?? 1;
  const peek = () => toks[pos];
  const err = (d: string, tok = peek()): never => {
    throw new TermSyntaxError(file, tok?.line ?? lastLine(), d);
  };
  const expectP = (v: string) => {
    const t = peek();
    if (!t || t.k !== "p" || t.v !== v) err(`expected "${v}"${t ? ` but found ${describe(t)}` : " but the file ended"}`);
    pos++;
  };
  const isP = (v: string) => {
    const t = peek();
    return t !== undefined && t.k === "p" && t.v === v;
  };
  const seq = (close: string): Term[] => {
    const items: Term[] = [];
    if (isP(close)) {
      pos++;
      return items;
    }
    for (;;) {
      items.push(term());
      if (isP(",")) {
        pos++;
        continue;
      }
      expectP(close);
      return items;
    }
  };
  const binary = (): Term => {
    const bytes: number[] = [];
    if (isP(">>")) {
      pos++;
      return { t: "bin", v: new Uint8Array(0) };
    }
    for (;;) {
      const t = peek() ?? err("unterminated binary");
      let negate = false;
      if (t.k === "p" && t.v === "-") {
        negate = true;
        pos++;
      }
      const el = peek() ?? err("unterminated binary");
      pos++;
      let encoding = "latin1";
      if (isP("/")) {
        pos++;
        const ty = peek();
        if (!ty || ty.k !== "atom") err("expected a type after / in binary");
        encoding = (ty as { v: string }).v;
        pos++;
      }
      if (el.k === "str") {
        if (encoding === "utf8") bytes.push(...utf8.encode(el.v));
        else {
          for (const ch of el.v) {
            const cp = ch.codePointAt(0)!;
            if (cp > 255) err("binary string has a character above 255 without /utf8", el);
            bytes.push(cp);
          }
        }
      } else if (el.k === "int") {
        const v = negate ? -el.v : el.v;
        if (encoding === "utf8") bytes.push(...utf8.encode(String.fromCodePoint(v)));
        else bytes.push(((v % 256) + 256) % 256);
      } else err(`unexpected ${describe(el)} in binary`, el);
      if (isP(",")) {
        pos++;
        continue;
      }
      expectP(">>");
      return { t: "bin", v: Uint8Array.from(bytes) };
    }
  };
  // Nesting is bounded so that a hostile file gets a clear error, not a stack overflow.
  let depth = 0;
  const term = (): Term => {
    if (depth >= MAX_DEPTH) err(`terms nested more than ${MAX_DEPTH} deep`);
    depth++;
    try {
      return termAt();
    } finally {
      depth--;
    }
  };
  const termAt = (): Term => {
    const t = peek() ?? err("unexpected end of file");
    pos++;
    switch (t.k) {
      case "atom":
        return { t: "atom", v: t.v };
      case "str": {
        let s = t.v;
        // Adjacent string literals are one string.
        while (peek()?.k === "str") s += (toks[pos++] as { v: string }).v;
        return { t: "str", v: s };
      }
      case "int":
        return { t: "int", v: t.v };
      case "float":
        return { t: "float", v: t.v };
      case "var":
        return err(`variables are not allowed here (${t.v}); write a literal value`, t);
      case "end":
        return err(`unexpected "."`, t);
      case "p":
        break;
    }
    const p = (t as { v: string }).v;
    if (p === "{") return { t: "tuple", v: seq("}") };
    if (p === "[") {
      const items: Term[] = [];
      if (isP("]")) {
        pos++;
        return { t: "list", v: items };
      }
      for (;;) {
        items.push(term());
        if (isP(",")) {
          pos++;
          continue;
        }
        if (isP("|")) {
          pos++;
          const tail = term();
          if (tail.t !== "list") err("improper lists are not supported");
          items.push(...(tail as { v: Term[] }).v);
        }
        expectP("]");
        return { t: "list", v: items };
      }
    }
    if (p === "<<") return binary();
    if (p === "#{") {
      const entries: Array<[Term, Term]> = [];
      if (isP("}")) {
        pos++;
        return { t: "map", v: entries };
      }
      for (;;) {
        const k = term();
        if (isP("=>") || isP(":=")) pos++;
        else err('expected "=>" in map');
        entries.push([k, term()]);
        if (isP(",")) {
          pos++;
          continue;
        }
        expectP("}");
        return { t: "map", v: entries };
      }
    }
    if (p === "-" || p === "+") {
      const n = peek();
      if (n && (n.k === "int" || n.k === "float")) {
        pos++;
        return { t: n.k, v: p === "-" ? -n.v : n.v } as Term;
      }
    }
    return err(`unexpected ${describe(t)}; only literal terms are supported`, t);
  };
  const out: Term[] = [];
  while (pos < toks.length) {
    out.push(term());
    const t = peek();
    if (!t || t.k !== "end") err(`expected "." after the term${t ? ` but found ${describe(t)}` : ""}`);
    pos++;
  }
  return out;
}

function describe(t: Tok): string {
  if (t.k === "end") return '"."';
  if (t.k === "p") return `"${t.v}"`;
  return `${t.k} ${JSON.stringify(t.v)}`;
}

// ---- helpers for reading terms ----

const utf8d = new TextDecoder("utf-8", { fatal: true });

/** A binary or string term as text, or undefined. */
export function termText(t: Term | undefined): string | undefined {
  if (!t) return undefined;
  if (t.t === "bin") {
    try {
      return utf8d.decode(t.v);
    } catch {
      return String.fromCharCode(...t.v);
    }
  }
  if (t.t === "str") return t.v;
  if (t.t === "list" && t.v.every((x) => x.t === "int")) return String.fromCodePoint(...t.v.map((x) => (x as { v: number }).v));
  return undefined;
}

/** Proplist/map lookup: [{key, V}] or #{key => V}, with atom, binary or string keys. */
export function lookup(t: Term | undefined, key: string): Term | undefined {
  if (!t) return undefined;
  const pairs: Array<[Term, Term]> =
    t.t === "map"
      ? t.v
      : t.t === "list"
        ? t.v.flatMap((x): Array<[Term, Term]> => (x.t === "tuple" && x.v.length === 2 ? [[x.v[0]!, x.v[1]!]] : []))
        : [];
  for (const [k, v] of pairs) if (keyName(k) === key) return v;
  return undefined;
}

export function keyName(k: Term): string | undefined {
  return k.t === "atom" ? k.v : termText(k);
}

// ---- writing ----

const UTF8_NON_ASCII = /[^\x00-\x7f]/;

function escapeChars(s: string, quote: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    // Octal, never \x{...}: hex_core's safe_erl_term lexer does not know \x.
    else if (cp < 0x20 || cp === 0x7f) out += `\\${cp.toString(8).padStart(3, "0")}`;
    else out += ch;
  }
  return out;
}

/** Renders a term as hex_core readers accept it. */
export function formatTerm(t: Term): string {
  switch (t.t) {
    case "atom":
      return /^[a-z][a-zA-Z0-9_@]*$/.test(t.v) ? t.v : `'${escapeChars(t.v, "'")}'`;
    case "bin": {
      let s: string | undefined;
      try {
        s = utf8d.decode(t.v);
      } catch {
        s = undefined;
      }
      if (s === undefined) return `<<${Array.from(t.v).join(",")}>>`;
      return UTF8_NON_ASCII.test(s) ? `<<"${escapeChars(s, '"')}"/utf8>>` : `<<"${escapeChars(s, '"')}">>`;
    }
    case "str":
      return `"${escapeChars(t.v, '"')}"`;
    case "int":
      return String(t.v);
    case "float":
      return Number.isInteger(t.v) ? t.v.toFixed(1) : String(t.v);
    case "list":
      return `[${t.v.map(formatTerm).join(",")}]`;
    case "tuple":
      return `{${t.v.map(formatTerm).join(",")}}`;
    case "map":
      return `#{${t.v.map(([k, v]) => `${formatTerm(k)} => ${formatTerm(v)}`).join(",")}}`;
  }
}

export const bin = (s: string): Term => ({ t: "bin", v: utf8.encode(s) });
export const atom = (s: string): Term => ({ t: "atom", v: s });
export const list = (v: Term[]): Term => ({ t: "list", v });
export const tuple = (...v: Term[]): Term => ({ t: "tuple", v });
