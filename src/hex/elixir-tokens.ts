/**
 * A tokenizer for the part of Elixir that mix.exs files are written in. It only has to find the
 * literal data and the boundaries of everything else (brackets, do/end blocks), so operators are
 * kept as opaque tokens.
 */

export type Tok =
  | { k: "str"; v: string; line: number; interp: boolean; parts?: Part[] }
  | { k: "atom"; v: string; line: number; interp: boolean }
  | { k: "kw"; v: string; line: number }
  | { k: "int" | "float"; v: number; line: number }
  | { k: "ident"; v: string; line: number }
  | { k: "alias"; v: string; line: number }
  | { k: "attr"; v: string; line: number }
  | { k: "sigil"; letter: string; v: string; mods: string; line: number; interp: boolean }
  | { k: "p"; v: string; line: number }
  | { k: "nl"; line: number };

/** A piece of an interpolated string: literal text, or the source of one `#{…}` and its line. */
export type Part = string | { src: string; line: number };

export class ElixirSyntaxError extends Error {
  override name = "ElixirSyntaxError";
  constructor(readonly line: number, detail: string) {
    super(`mix.exs:${line}: ${detail}`);
  }
}

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}", "<": ">", "/": "/", "|": "|", '"': '"', "'": "'" };
const OPS = ["<<~", "~>>", "<~>", "|||", "&&&", "<<<", ">>>", "===", "!==", "...", "<<", ">>", "%{", "=>", "->", "<-", "::", "\\\\", "<>", "++", "--", "==", "!=", "<=", ">=", "&&", "||", "|>", "..", "=~", "~>", "<~"];

export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const err = (d: string): never => {
    throw new ElixirSyntaxError(line, d);
  };

  // Reads an escape after "\" inside a string; returns the character(s).
  const escape = (): string => {
    const c = src[i++] ?? err("unterminated string");
    switch (c) {
      case "n": return "\n";
      case "t": return "\t";
      case "r": return "\r";
      case "s": return " ";
      case "e": return "\x1b";
      case "0": return "\0";
      case "a": return "\x07";
      case "b": return "\b";
      case "f": return "\f";
      case "v": return "\v";
      case "\n":
        line++;
        return "";
      case "x": {
        const m = /^(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{1,2})/.exec(src.slice(i)) ?? err("bad \\x escape");
        i += m[0].length;
        return String.fromCodePoint(parseInt(m[0].replace(/[{}]/g, ""), 16));
      }
      case "u": {
        const m = /^(\{[0-9a-fA-F]+\}|[0-9a-fA-F]{4})/.exec(src.slice(i)) ?? err("bad \\u escape");
        i += m[0].length;
        return String.fromCodePoint(parseInt(m[0].replace(/[{}]/g, ""), 16));
      }
      default:
        return c;
    }
  };

  // Reads a quoted body up to `close`; `escapes` false for uppercase sigils.
  const body = (close: string, escapes: boolean, open?: string): { v: string; interp: boolean; parts: Part[] } => {
    let v = "";
    let interp = false;
    let depth = 0;
    const parts: Part[] = [];
    let lit = "";
    for (;;) {
      const c = src[i];
      if (c === undefined) err(`unterminated ${close === '"' ? "string" : "literal"}`);
      if (c === close && depth === 0) {
        i++;
        if (lit !== "") parts.push(lit);
        return { v, interp, parts };
      }
      i++;
      if (open !== undefined && open !== close) {
        if (c === open) depth++;
        else if (c === close) depth--;
      }
      if (c === "\n") line++;
      if (c === "\\" && escapes) {
        const e = src[i] === close || src[i] === "#" ? src[i++]! : escape();
        v += e;
        lit += e;
        continue;
      }
      if (c === "\\" && !escapes && src[i] === close) {
        v += src[i];
        lit += src[i++];
        continue;
      }
      if (c === "#" && src[i] === "{" && escapes) {
        interp = true;
        // Skip the interpolated expression, keeping it in the text for messages.
        let d = 0;
        v += "#";
        const at = line;
        const from = i + 1;
        while (i < src.length) {
          const x = src[i++]!;
          v += x;
          if (x === "{") d++;
          else if (x === "}" && --d === 0) break;
          else if (x === "\n") line++;
        }
        if (d !== 0) err("unterminated #{ in a string");
        if (lit !== "") parts.push(lit);
        lit = "";
        parts.push({ src: src.slice(from, i - 1), line: at });
        continue;
      }
      v += c;
      lit += c;
    }
  };

  // Heredoc after the opening triple quote: content lines, indentation of the closing line removed.
  const heredoc = (q: string, escapes: boolean): { v: string; interp: boolean; parts?: Part[] } => {
    const nl = src.indexOf("\n", i);
    if (nl < 0) err("unterminated heredoc");
    i = nl + 1;
    line++;
    const startLine = line;
    const lines: string[] = [];
    for (;;) {
      const end = src.indexOf("\n", i);
      const raw = src.slice(i, end < 0 ? src.length : end);
      const closeMatch = new RegExp(`^(\\s*)${q}${q}${q}`).exec(raw);
      if (closeMatch) {
        i += closeMatch[0].length;
        const indent = closeMatch[1]!.length;
        const text = lines.map((l) => (l.slice(0, indent).trim() === "" ? l.slice(indent) : l.trimStart())).join("\n");
        const sub = text + (lines.length > 0 ? "\n" : "");
        return escapes ? unescape(sub, startLine) : { v: sub, interp: false, parts: [sub] };
      }
      if (end < 0) throw new ElixirSyntaxError(startLine, "unterminated heredoc");
      lines.push(raw);
      i = end + 1;
      line++;
    }
  };

  while (i < src.length) {
    const c = src[i]!;
    const start = line;
    if (c === "\n") {
      toks.push({ k: "nl", line });
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (src.startsWith('"""', i) || src.startsWith("'''", i)) {
      const q = c;
      i += 3;
      const h = heredoc(q, true);
      toks.push({ k: "str", v: h.v, interp: h.interp, line: start, ...(h.interp ? { parts: h.parts } : {}) });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      const b = body(c, true);
      if (src[i] === ":" && /[\s]/.test(src[i + 1] ?? " ") && c === '"') {
        i++;
        toks.push({ k: "kw", v: b.v, line: start });
      } else toks.push({ k: "str", v: b.v, interp: b.interp, line: start, ...(b.interp ? { parts: b.parts } : {}) });
      continue;
    }
    if (c === "~" && /[a-zA-Z]/.test(src[i + 1] ?? "")) {
      const letter = src[i + 1]!;
      i += 2;
      const escapes = letter === letter.toLowerCase();
      let b: { v: string; interp: boolean; parts?: Part[] };
      if (src.startsWith('"""', i) || src.startsWith("'''", i)) {
        const q = src[i]!;
        i += 3;
        b = heredoc(q, escapes);
      } else {
        const open = src[i] ?? err("unterminated sigil");
        const close = CLOSERS[open] ?? err(`unexpected sigil delimiter ${JSON.stringify(open)}`);
        i++;
        b = body(close, escapes, open);
      }
      const mods = /^[a-zA-Z]*/.exec(src.slice(i))![0];
      i += mods.length;
      toks.push({ k: "sigil", letter, v: b.v, mods, interp: b.interp, line: start });
      continue;
    }
    if (c === ":" && src[i + 1] !== ":") {
      const next = src[i + 1] ?? "";
      if (next === '"') {
        i += 2;
        const b = body('"', true);
        toks.push({ k: "atom", v: b.v, interp: b.interp, line: start });
        continue;
      }
      const m = /^[a-zA-Z_][a-zA-Z0-9_@]*[?!]?/.exec(src.slice(i + 1));
      if (m) {
        i += 1 + m[0].length;
        toks.push({ k: "atom", v: m[0], interp: false, line: start });
        continue;
      }
    }
    if (c === "?" && i + 1 < src.length && !/\s/.test(src[i + 1]!)) {
      i++;
      let ch = src[i++]!;
      if (ch === "\\") ch = escape();
      toks.push({ k: "int", v: ch.codePointAt(0)!, line: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*(\.[0-9][0-9_]*([eE][+-]?[0-9]+)?)?)/.exec(src.slice(i))!;
      i += m[0].length;
      const s = m[0].replace(/_/g, "");
      if (m[2]) toks.push({ k: "float", v: parseFloat(s), line: start });
      else toks.push({ k: "int", v: s.startsWith("0o") ? parseInt(s.slice(2), 8) : s.startsWith("0b") ? parseInt(s.slice(2), 2) : Number(s), line: start });
      continue;
    }
    if (c === "@" && /[a-z_]/.test(src[i + 1] ?? "")) {
      const m = /^[a-z_][a-zA-Z0-9_]*/.exec(src.slice(i + 1))!;
      i += 1 + m[0].length;
      toks.push({ k: "attr", v: m[0], line: start });
      continue;
    }
    if (/[a-z_]/.test(c)) {
      const m = /^[a-z_][a-zA-Z0-9_]*[?!]?/.exec(src.slice(i))!;
      i += m[0].length;
      if (src[i] === ":" && src[i + 1] !== ":" && /[\s]/.test(src[i + 1] ?? " ")) {
        i++;
        toks.push({ k: "kw", v: m[0], line: start });
      } else toks.push({ k: "ident", v: m[0], line: start });
      continue;
    }
    if (/[A-Z]/.test(c)) {
      const m = /^[A-Z][a-zA-Z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      // `GitHub: url` in a map or keyword list is an atom key like any other.
      if (src[i] === ":" && src[i + 1] !== ":" && /[\s]/.test(src[i + 1] ?? " ")) {
        i++;
        toks.push({ k: "kw", v: m[0], line: start });
      } else toks.push({ k: "alias", v: m[0], line: start });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      i += op.length;
      toks.push({ k: "p", v: op, line: start });
      continue;
    }
    i++;
    toks.push({ k: "p", v: c, line: start });
  }
  return toks;
}

/** Escapes and interpolation markers of an already delimited string body (heredocs). */
function unescape(raw: string, line: number): { v: string; interp: boolean; parts?: Part[] } {
  const toks = tokenize(`"${raw.replace(/\\\\|\\"|"/g, (m) => (m === '"' ? '\\"' : m)).replace(/\n/g, "\\n")}"`);
  const t = toks[0];
  if (toks.length !== 1 || !t || t.k !== "str") throw new ElixirSyntaxError(line, "cannot read heredoc");
  // The heredoc was folded onto one line; its interpolations are reported at its first line.
  return { v: t.v, interp: t.interp, parts: t.parts?.map((p) => (typeof p === "string" ? p : { src: p.src, line })) };
}
