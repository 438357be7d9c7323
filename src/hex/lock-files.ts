import { tokenize, type Tok } from "./elixir-tokens.js";
import { lookup, parseTerms, termText, TermSyntaxError, type Term } from "./erlang-terms.js";
import { PACKAGE_NAME } from "./metadata.js";

/**
 * The Hex packages a mix.lock (Elixir terms) or rebar.lock (Erlang terms) pins, with the
 * checksums the lock recorded, so a mirror can hold the lock to them. Git and path
 * dependencies are listed apart: no Hex repository serves them.
 */

export interface LockedPackage {
  /** The Hex package name (may differ from the app name the lock is keyed by). */
  name: string;
  version: string;
  /** The repository the lock names ("hexpm", "hexpm:org", a custom name); rebar.lock names none. */
  repo?: string;
  /** Lower-case hex SHA-256s as locked; either may be absent in older lock formats. */
  innerChecksum?: string;
  outerChecksum?: string;
}

export interface LockFile {
  packages: LockedPackage[];
  skipped: Array<{ name: string; reason: string }>;
}

export class LockFileError extends Error {
  override name = "LockFileError";
}

const CHECKSUM = /^[0-9a-fA-F]{64}$/;

function checksum(value: string | undefined, file: string, what: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!CHECKSUM.test(value)) throw new LockFileError(`${file}: ${what} ${JSON.stringify(value)} is not a 64-digit hex SHA-256`);
  return value.toLowerCase();
}

function checkName(name: string, file: string, where: string): string {
  if (!PACKAGE_NAME.test(name)) throw new LockFileError(`${file}: ${where}: package name ${JSON.stringify(name)} is not a Hex package name`);
  return name;
}

function checkVersion(version: string, file: string, where: string): string {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) throw new LockFileError(`${file}: ${where}: version ${JSON.stringify(version)} is not a version number`);
  return version;
}

// ---- mix.lock ----

/** The literal data of Elixir: enough for mix.lock, which mix writes with `inspect`. */
type Ex =
  | { k: "str"; v: string }
  | { k: "atom"; v: string }
  | { k: "num"; v: number }
  | { k: "list"; v: Ex[] }
  | { k: "tuple"; v: Ex[] }
  | { k: "map"; v: Array<[Ex, Ex]> };

class ExReader {
  private i = 0;
  private readonly toks: Tok[];
  constructor(toks: Tok[], private readonly file: string) {
    this.toks = toks.filter((t) => t.k !== "nl");
  }

  private fail(detail: string): never {
    const t = this.toks[this.i] ?? this.toks[this.toks.length - 1];
    throw new LockFileError(`${this.file}:${t?.line ?? 1}: ${detail}`);
  }

  private punct(v: string): boolean {
    const t = this.toks[this.i];
    if (t?.k === "p" && t.v === v) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(v: string): void {
    if (!this.punct(v)) this.fail(`expected "${v}"`);
  }

  atEnd(): boolean {
    return this.i >= this.toks.length;
  }

  /** Items up to `close`, with `key: value` pairs turned into {atom, value} tuples as Elixir does. */
  private items(close: string, pairs: boolean): Array<Ex | [Ex, Ex]> {
    const out: Array<Ex | [Ex, Ex]> = [];
    while (!this.punct(close)) {
      const t = this.toks[this.i];
      if (!t) this.fail(`unterminated, expected "${close}"`);
      if (t.k === "kw") {
        this.i++;
        out.push([{ k: "atom", v: t.v }, this.value()]);
      } else {
        const v = this.value();
        if (pairs) {
          this.expect("=>");
          out.push([v, this.value()]);
        } else out.push(v);
      }
      if (!this.punct(",")) {
        this.expect(close);
        break;
      }
    }
    return out;
  }

  value(): Ex {
    const t = this.toks[this.i++];
    if (!t) this.fail("unexpected end of file");
    switch (t.k) {
      case "str":
        if (t.interp) this.fail("interpolation is not literal data");
        return { k: "str", v: t.v };
      case "atom":
        return { k: "atom", v: t.v };
      case "int":
      case "float":
        return { k: "num", v: t.v };
      case "ident":
        if (t.v === "true" || t.v === "false" || t.v === "nil") return { k: "atom", v: t.v };
        break;
      case "p":
        if (t.v === "[") return { k: "list", v: this.items("]", false).map((x) => (Array.isArray(x) ? { k: "tuple", v: x } : x)) };
        if (t.v === "{") return { k: "tuple", v: this.items("}", false).map((x) => (Array.isArray(x) ? { k: "list", v: [{ k: "tuple", v: x }] } : x)) };
        if (t.v === "%{") return { k: "map", v: this.items("}", true).map((x) => (Array.isArray(x) ? x : this.fail("a map entry needs a key"))) };
        break;
    }
    this.i--;
    return this.fail(`unexpected ${t.k === "p" ? `"${t.v}"` : t.k} (mix.lock holds literal data only)`);
  }
}

const exText = (e: Ex | undefined): string | undefined => (e?.k === "str" ? e.v : undefined);

export function readMixLock(text: string, file = "mix.lock"): LockFile {
  let toks: Tok[];
  try {
    toks = tokenize(text);
  } catch (err) {
    throw new LockFileError(`${file}: ${(err as Error).message.replace(/^mix\.exs:/, "line ")}`);
  }
  const reader = new ExReader(toks, file);
  const top = reader.value();
  if (!reader.atEnd()) throw new LockFileError(`${file}: more than one term (a mix.lock is one map)`);
  if (top.k !== "map") throw new LockFileError(`${file}: not a map (a mix.lock is %{"app": {...}, ...})`);
  const packages: LockedPackage[] = [];
  const skipped: LockFile["skipped"] = [];
  for (const [k, v] of top.v) {
    const app = k.k === "atom" || k.k === "str" ? k.v : "?";
    if (v.k !== "tuple" || v.v[0]?.k !== "atom") throw new LockFileError(`${file}: ${app}: not a lock tuple`);
    const scm = v.v[0].v;
    if (scm !== "hex") {
      skipped.push({ name: app, reason: `a ${scm} dependency, not from a Hex repository` });
      continue;
    }
    const [, nameT, versionT, innerT, , , repoT, outerT] = v.v;
    const name = nameT?.k === "atom" ? nameT.v : exText(nameT);
    const version = exText(versionT);
    if (name === undefined || version === undefined) throw new LockFileError(`${file}: ${app}: a :hex entry needs a package name and a version`);
    packages.push({
      name: checkName(name, file, app),
      version: checkVersion(version, file, app),
      repo: exText(repoT) ?? "hexpm",
      ...optional("innerChecksum", checksum(exText(innerT), file, `${app}: inner checksum`)),
      ...optional("outerChecksum", checksum(exText(outerT), file, `${app}: outer checksum`)),
    });
  }
  return { packages, skipped };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

// ---- rebar.lock ----

/**
 * rebar.lock: `{"1.2.0", [Dep]}.` then `[{pkg_hash, [...]}, {pkg_hash_ext, [...]}].`, or the
 * pre-1.0 bare `[Dep].`; a Dep is `{<<"app">>, {pkg, <<"name">>, <<"vsn">>}, Level}`.
 * pkg_hash holds inner checksums and pkg_hash_ext outer ones, keyed by app name.
 */
export function readRebarLock(text: string, file = "rebar.lock"): LockFile {
  let terms: Term[];
  try {
    terms = parseTerms(text, file);
  } catch (err) {
    if (err instanceof TermSyntaxError) throw new LockFileError(err.message);
    throw err;
  }
  const first = terms[0];
  let deps: Term[];
  if (first?.t === "tuple" && first.v.length === 2 && first.v[1]!.t === "list") deps = first.v[1]!.v;
  else if (first?.t === "list") deps = first.v;
  else if (first === undefined) deps = [];
  else throw new LockFileError(`${file}: the first term is neither {Version, [Deps]} nor [Deps]`);
  const hashes = terms[1];
  const hashOf = (table: string, app: string, name: string) => {
    const t = lookup(hashes, table);
    return termText(lookup(t, app)) ?? termText(lookup(t, name));
  };
  const packages: LockedPackage[] = [];
  const skipped: LockFile["skipped"] = [];
  for (const d of deps) {
    if (d.t !== "tuple" || d.v.length < 2) throw new LockFileError(`${file}: a dependency entry is not {App, Source, Level}`);
    const app = termText(d.v[0]) ?? (d.v[0]!.t === "atom" ? d.v[0]!.v : undefined);
    if (app === undefined) throw new LockFileError(`${file}: a dependency's name is not a binary`);
    const source = d.v[1]!;
    if (source.t !== "tuple" || source.v[0]?.t !== "atom") throw new LockFileError(`${file}: ${app}: the source is not a tuple`);
    if (source.v[0].v !== "pkg") {
      skipped.push({ name: app, reason: `a ${source.v[0].v} dependency, not from a Hex repository` });
      continue;
    }
    const name = termText(source.v[1]);
    const version = termText(source.v[2]);
    if (name === undefined || version === undefined) throw new LockFileError(`${file}: ${app}: {pkg, Name, Version} needs a name and a version`);
    packages.push({
      name: checkName(name, file, app),
      version: checkVersion(version, file, app),
      ...optional("innerChecksum", checksum(hashOf("pkg_hash", app, name) ?? termText(source.v[3]), file, `${app}: pkg_hash`)),
      ...optional("outerChecksum", checksum(hashOf("pkg_hash_ext", app, name), file, `${app}: pkg_hash_ext`)),
    });
  }
  return { packages, skipped };
}

/** By file name: mix.lock is Elixir, anything ending in rebar.lock Erlang. */
export function readLockFile(text: string, file: string): LockFile {
  if (/(^|\/)rebar\.lock$/.test(file) || file.endsWith(".rebar.lock")) return readRebarLock(text, file);
  if (/(^|\/)mix\.lock$/.test(file) || file.endsWith(".mix.lock")) return readMixLock(text, file);
  const trimmed = text.trimStart();
  return trimmed.startsWith("%{") ? readMixLock(text, file) : readRebarLock(text, file);
}
