/**
 * The Erlang External Term Format subset the Hex HTTP API speaks (application/vnd.hex+erlang):
 * an encoder for response bodies and a decoder for request bodies, which come from outside.
 * The decoder accepts only data tags, creates nothing from atoms but a tagged value, and is
 * bounded in depth and element count, so a hostile body costs at most its own (bounded) size.
 */

/** A decoded or encodable term. Binaries are UTF-8 strings; maps with binary/atom keys are objects. */
export type EtfValue = null | boolean | number | string | EtfValue[] | EtfTuple | EtfAtom | EtfMap;
export interface EtfTuple {
  tuple: EtfValue[];
}
export interface EtfAtom {
  atom: string;
}
export interface EtfMap {
  [key: string]: EtfValue | undefined;
}

export class EtfError extends Error {
  override name = "EtfError";
}

const VERSION = 131;
const T = { map: 116, binary: 109, smallAtomUtf8: 119, atomUtf8: 118, atom: 100, smallAtom: 115, smallInt: 97, int: 98, smallBig: 110, float: 70, list: 108, nil: 106, string: 107, smallTuple: 104, largeTuple: 105 } as const;

const utf8 = new TextEncoder();

// ---- encoding ----

/** term_to_binary for the values above; map keys are written sorted, as term_to_binary does for small maps. */
export function encodeEtf(value: EtfValue): Uint8Array {
  const parts: number[] = [VERSION];
  const push = (bytes: ArrayLike<number>) => {
    for (let i = 0; i < bytes.length; i++) parts.push(bytes[i]!);
  };
  const u32 = (n: number) => push([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const atom = (name: string) => {
    const b = utf8.encode(name);
    push([T.smallAtomUtf8, b.length]);
    push(b);
  };
  const binary = (s: string) => {
    const b = utf8.encode(s);
    parts.push(T.binary);
    u32(b.length);
    push(b);
  };
  const write = (v: EtfValue): void => {
    if (v === null) return atom("nil");
    if (v === true || v === false) return atom(String(v));
    if (typeof v === "string") return binary(v);
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new EtfError(`cannot encode ${v}: only safe integers`);
      if (v >= 0 && v <= 255) return push([T.smallInt, v]);
      if (v >= -(2 ** 31) && v < 2 ** 31) {
        parts.push(T.int);
        return u32(v >>> 0);
      }
      let n = BigInt(Math.abs(v));
      const digits: number[] = [];
      while (n > 0n) {
        digits.push(Number(n & 255n));
        n >>= 8n;
      }
      push([T.smallBig, digits.length, v < 0 ? 1 : 0]);
      return push(digits);
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return void parts.push(T.nil);
      parts.push(T.list);
      u32(v.length);
      v.forEach(write);
      return void parts.push(T.nil);
    }
    if ("tuple" in v && Array.isArray(v.tuple)) {
      const items = v.tuple as EtfValue[];
      if (items.length > 255) throw new EtfError("tuples of more than 255 elements are not supported");
      push([T.smallTuple, items.length]);
      return items.forEach(write);
    }
    if ("atom" in v && typeof v.atom === "string" && Object.keys(v).length === 1) return atom(v.atom);
    const entries = Object.entries(v as EtfMap).filter((e): e is [string, EtfValue] => e[1] !== undefined);
    // Binary keys sort by bytes; JS string order matches for the ASCII keys the API uses.
    entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    parts.push(T.map);
    u32(entries.length);
    for (const [k, val] of entries) {
      binary(k);
      write(val);
    }
  };
  write(value);
  return Uint8Array.from(parts);
}

// ---- decoding ----

export interface DecodeLimits {
  /** Nesting depth at most (default 16). */
  maxDepth?: number;
  /** Elements (list items, map pairs, tuple items) in total at most (default 10,000). */
  maxElements?: number;
}

/** binary_to_term(Bin, [safe]) restricted to data: refuses funs, pids, refs, ports and anything unknown. */
export function decodeEtf(bytes: Uint8Array, limits: DecodeLimits = {}): EtfValue {
  const maxDepth = limits.maxDepth ?? 16;
  let budget = limits.maxElements ?? 10_000;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  const need = (n: number, what: string) => {
    if (off + n > bytes.length) throw new EtfError(`truncated term: ${what} needs ${n} byte(s) at offset ${off}`);
  };
  const u8 = () => (need(1, "a byte"), bytes[off++]!);
  const u16 = () => (need(2, "a 16-bit length"), (off += 2), view.getUint16(off - 2));
  const u32 = () => (need(4, "a 32-bit length"), (off += 4), view.getUint32(off - 4));
  const take = (n: number, what: string) => (need(n, what), (off += n), bytes.subarray(off - n, off));
  const count = (n: number) => {
    budget -= n;
    if (budget < 0) throw new EtfError("term has too many elements");
  };
  const text = (b: Uint8Array, what: string) => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(b);
    } catch {
      throw new EtfError(`${what} is not UTF-8`);
    }
  };
  const atomValue = (name: string): EtfValue => (name === "nil" ? null : name === "true" ? true : name === "false" ? false : { atom: name });
  const read = (depth: number): EtfValue => {
    if (depth > maxDepth) throw new EtfError(`term nested deeper than ${maxDepth}`);
    const tag = u8();
    switch (tag) {
      case T.binary:
        return text(take(u32(), "a binary"), "binary");
      case T.smallAtomUtf8:
      case T.smallAtom:
        return atomValue(text(take(u8(), "an atom"), "atom"));
      case T.atomUtf8:
        return atomValue(text(take(u16(), "an atom"), "atom"));
      case T.atom:
        return atomValue(Buffer.from(take(u16(), "an atom")).toString("latin1"));
      case T.smallInt:
        return u8();
      case T.int:
        need(4, "an integer");
        off += 4;
        return view.getInt32(off - 4);
      case T.smallBig: {
        const n = u8();
        const sign = u8();
        const digits = take(n, "a big integer");
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(digits[i]!);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new EtfError("integer too large");
        return sign ? -Number(v) : Number(v);
      }
      case T.float:
        need(8, "a float");
        off += 8;
        return view.getFloat64(off - 8);
      case T.nil:
        return [];
      case T.string: {
        // A list of small integers (what term_to_binary writes for "abc" charlists).
        const b = take(u16(), "a string");
        count(b.length);
        return Array.from(b);
      }
      case T.list: {
        const n = u32();
        count(n);
        const out: EtfValue[] = [];
        for (let i = 0; i < n; i++) out.push(read(depth + 1));
        const tail = read(depth + 1);
        if (!(Array.isArray(tail) && tail.length === 0)) throw new EtfError("improper lists are not accepted");
        return out;
      }
      case T.smallTuple:
      case T.largeTuple: {
        const n = tag === T.smallTuple ? u8() : u32();
        count(n);
        const out: EtfValue[] = [];
        for (let i = 0; i < n; i++) out.push(read(depth + 1));
        return { tuple: out };
      }
      case T.map: {
        const n = u32();
        count(n);
        const out: EtfMap = Object.create(null) as EtfMap;
        for (let i = 0; i < n; i++) {
          const k = read(depth + 1);
          let key: string;
          if (typeof k === "string") key = k;
          else if (k !== null && typeof k === "object" && !Array.isArray(k) && typeof (k as EtfAtom).atom === "string") key = (k as EtfAtom).atom;
          else if (k === null || typeof k === "boolean") key = String(k === null ? "nil" : k);
          else throw new EtfError("map keys must be binaries or atoms");
          if (key in out) throw new EtfError(`map key ${JSON.stringify(key)} appears twice`);
          out[key] = read(depth + 1);
        }
        return out;
      }
      default:
        throw new EtfError(`unsupported term tag ${tag} at offset ${off - 1} (only data terms are accepted)`);
    }
  };
  if (bytes.length === 0) throw new EtfError("empty body");
  if (u8() !== VERSION) throw new EtfError("not an Erlang term (the first byte must be 131)");
  const value = read(0);
  if (off !== bytes.length) throw new EtfError(`${bytes.length - off} byte(s) after the term`);
  return value;
}

/** The map a request body must be, or an error naming what it was. */
export function isEtfMap(v: EtfValue): v is EtfMap {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !("tuple" in v && Array.isArray((v as EtfTuple).tuple)) && !("atom" in v && typeof (v as EtfAtom).atom === "string" && Object.keys(v).length === 1);
}
