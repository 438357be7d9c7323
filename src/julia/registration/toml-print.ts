// Prints TOML the way Julia's TOML.print(io, dict; sorted=true) does, for the shapes registry
// files use (strings, booleans, arrays of strings, one level of tables), so that a registration
// by pkgpub produces the same bytes as one by RegistryTools.

export type PrintValue = string | boolean | number | string[];
export type PrintTable = { [key: string]: PrintValue | PrintTable };

const BARE = /^[A-Za-z0-9_-]+$/;

function escape(s: string): string {
  let out = "";
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (c === "\b") out += "\\b";
    else if (c === "\t") out += "\\t";
    else if (c === "\n") out += "\\n";
    else if (c === "\f") out += "\\f";
    else if (c === "\r") out += "\\r";
    else if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return out;
}

export function printKey(key: string): string {
  return key.length > 0 && BARE.test(key) ? key : `"${escape(key)}"`;
}

export function printValue(value: PrintValue): string {
  if (Array.isArray(value)) return `[${value.map((v) => printValue(v)).join(", ")}]`;
  if (typeof value === "string") return `"${escape(value)}"`;
  return String(value);
}

const isTable = (v: PrintValue | PrintTable): v is PrintTable => typeof v === "object" && !Array.isArray(v);

/** Key order: by the given rank, then by code point (Julia's default string order). */
export type KeyOrder = (a: string, b: string) => number;
export const codePointOrder: KeyOrder = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export function printToml(table: PrintTable, order: KeyOrder = codePointOrder): string {
  let out = "";
  let firstBlock = true;
  const keys = Object.keys(table).sort(order);
  for (const key of keys) {
    const value = table[key]!;
    if (isTable(value)) continue;
    out += `${printKey(key)} = ${printValue(value)}\n`;
    firstBlock = false;
  }
  for (const key of keys) {
    const value = table[key]!;
    if (!isTable(value)) continue;
    if (!firstBlock) out += "\n";
    firstBlock = false;
    out += `[${printKey(key)}]\n`;
    for (const inner of Object.keys(value).sort(order)) {
      const v = value[inner]!;
      if (isTable(v)) throw new Error(`registry files have one level of tables; ${key}.${inner} is deeper`);
      out += `${printKey(inner)} = ${printValue(v)}\n`;
    }
  }
  return out;
}

/** TOML basic string literal, as Julia's repr prints a plain string. */
export function quote(s: string): string {
  return `"${escape(s)}"`;
}
