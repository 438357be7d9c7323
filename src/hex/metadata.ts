import { atom, bin, formatTerm, keyName, list, lookup, parseTerms, termText, tuple, type Term } from "./erlang-terms.js";
import { isSemVer } from "./semver.js";

/** A package requirement as metadata.config states it. */
export interface Requirement {
  name: string;
  app: string;
  requirement: string;
  optional: boolean;
  repository?: string;
}

/** The metadata.config fields pkgpub reads and writes; anything else is kept in `extra`. */
export interface HexMetadata {
  name: string;
  version: string;
  app: string;
  description?: string;
  licenses: string[];
  links: Array<[string, string]>;
  buildTools: string[];
  requirements: Requirement[];
  files: string[];
  elixir?: string;
}

export class MetadataError extends Error {
  override name = "MetadataError";
  /** "name" or "version" when the release's own name or version is at fault. */
  field?: string;
}

export const PACKAGE_NAME = /^[a-z][a-z0-9_]*$/;
/** A repository as requirements name it: "hexpm", "acme", or an organisation's "hexpm:acme". */
const REPOSITORY_NAME = /^[a-z0-9][a-z0-9_-]*(:[a-z0-9][a-z0-9_-]*)?$/;

export function validatePackageName(name: string, where: string): void {
  if (!PACKAGE_NAME.test(name)) {
    throw new MetadataError(`${where}: package name ${JSON.stringify(name)} is not valid (lowercase letters, digits and _, starting with a letter)`);
  }
}

export function validateVersion(version: string, where: string): void {
  if (!isSemVer(version)) throw new MetadataError(`${where}: version ${JSON.stringify(version)} is not a SemVer 2.0 version (like 1.2.3)`);
}

const FILE = "metadata.config";

function text(t: Term | undefined, key: string, required: boolean): string | undefined {
  if (t === undefined) {
    if (required) throw new MetadataError(`${FILE}: missing ${key}`);
    return undefined;
  }
  const s = termText(t);
  if (s === undefined) throw new MetadataError(`${FILE}: ${key} must be a string`);
  return s;
}

function textList(t: Term | undefined, key: string): string[] {
  if (t === undefined) return [];
  if (t.t !== "list") throw new MetadataError(`${FILE}: ${key} must be a list of strings`);
  return t.v.map((x) => text(x, key, true)!);
}

function bool(t: Term | undefined, key: string): boolean {
  if (t === undefined) return false;
  if (t.t === "atom" && (t.v === "true" || t.v === "false")) return t.v === "true";
  throw new MetadataError(`${FILE}: ${key} must be true or false`);
}

/**
 * Both requirement shapes hex_core normalises: rebar3_hex's [{Name, [{app,…},…]}] and
 * `mix hex.build`'s [[{name,…},{app,…},…]].
 */
function requirements(t: Term | undefined): Requirement[] {
  if (t === undefined) return [];
  const items = t.t === "list" ? t.v.map((x) => (x.t === "tuple" && x.v.length === 2 ? { key: termText(x.v[0]), body: x.v[1]! } : { key: undefined, body: x })) : t.t === "map" ? t.v.map(([k, v]) => ({ key: termText(k), body: v })) : null;
  if (!items) throw new MetadataError(`${FILE}: requirements must be a list`);
  return items.map(({ key, body }) => {
    const name = key ?? text(lookup(body, "name"), "requirements name", true)!;
    // Clients turn these into paths (packages/<name>, repos/<repository>).
    validatePackageName(name, `${FILE} requirements`);
    const where = `requirements ${name}`;
    const requirement = lookup(body, "requirement");
    const repository = lookup(body, "repository");
    if (repository !== undefined && !REPOSITORY_NAME.test(text(repository, `${where} repository`, true)!)) {
      throw new MetadataError(`${FILE} ${where}: repository ${JSON.stringify(termText(repository))} is not a repository name`);
    }
    return {
      name,
      app: text(lookup(body, "app"), `${where} app`, false) ?? name,
      requirement: requirement === undefined || (requirement.t === "atom" && requirement.v === "nil") ? ">= 0.0.0" : text(requirement, `${where} requirement`, true)!,
      optional: bool(lookup(body, "optional"), `${where} optional`),
      ...(repository === undefined ? {} : { repository: text(repository, `${where} repository`, true)! }),
    };
  });
}

export function parseMetadata(configText: string): HexMetadata {
  let terms: Term[];
  try {
    terms = parseTerms(configText, FILE);
  } catch (err) {
    throw new MetadataError((err as Error).message);
  }
  const top: Term = { t: "list", v: terms };
  for (const t of terms) if (t.t !== "tuple" || t.v.length !== 2 || keyName(t.v[0]!) === undefined) throw new MetadataError(`${FILE}: every term must be {Key, Value}`);
  // hex_core keeps the last of duplicate keys and this reader the first: refuse them, so that
  // what is checked here is what clients read.
  const keys = new Set<string>();
  for (const t of terms) {
    const k = keyName((t as { v: Term[] }).v[0]!)!;
    if (keys.has(k)) throw new MetadataError(`${FILE}: key ${k} appears more than once`);
    keys.add(k);
  }
  const linksTerm = lookup(top, "links");
  const links: Array<[string, string]> = [];
  if (linksTerm !== undefined) {
    const pairs = linksTerm.t === "map" ? linksTerm.v : linksTerm.t === "list" ? linksTerm.v.map((x) => (x.t === "tuple" && x.v.length === 2 ? ([x.v[0]!, x.v[1]!] as [Term, Term]) : null)) : null;
    if (!pairs || pairs.some((p) => p === null)) throw new MetadataError(`${FILE}: links must be a list of {Name, Url}`);
    for (const p of pairs as Array<[Term, Term]>) links.push([text(p[0], "links", true)!, text(p[1], "links", true)!]);
  }
  const meta: HexMetadata = {
    name: text(lookup(top, "name"), "name", true)!,
    version: text(lookup(top, "version"), "version", true)!,
    app: text(lookup(top, "app"), "app", false) ?? text(lookup(top, "name"), "name", true)!,
    description: text(lookup(top, "description"), "description", false),
    licenses: textList(lookup(top, "licenses"), "licenses"),
    links,
    buildTools: textList(lookup(top, "build_tools"), "build_tools"),
    requirements: requirements(lookup(top, "requirements")),
    files: textList(lookup(top, "files"), "files"),
    elixir: text(lookup(top, "elixir"), "elixir", false),
  };
  const at = (field: string, check: () => void) => {
    try {
      check();
    } catch (err) {
      if (err instanceof MetadataError) err.field = field;
      throw err;
    }
  };
  at("name", () => validatePackageName(meta.name, `${FILE} name`));
  at("version", () => validateVersion(meta.version, `${FILE} version`));
  return meta;
}

/**
 * How a client lays out metadata.config. `mix hex.build` (Hex 2.5.1) writes requirements as a list
 * of proplists with name (keys app, name, optional, repository, requirement) in mix.exs order, and
 * leaves out licenses/links the project does not set. rebar3_hex writes them as {Name, [app,
 * optional, requirement]} pairs sorted by name, and leaves out empty description/licenses/links.
 * Both sort the top-level keys (hex_core writes maps:to_list of the map).
 */
export interface MetadataLayout {
  writer: "mix" | "rebar3";
  /** Keys the client does not write for this project. */
  absent?: Array<"description" | "licenses" | "links">;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function requirementsTerm(m: HexMetadata, layout: MetadataLayout | undefined): Term {
  if (layout?.writer === "mix") {
    return list(
      m.requirements.map((r) =>
        list([
          tuple(bin("app"), bin(r.app)),
          tuple(bin("name"), bin(r.name)),
          tuple(bin("optional"), atom(r.optional ? "true" : "false")),
          tuple(bin("repository"), bin(r.repository ?? "hexpm")),
          tuple(bin("requirement"), bin(r.requirement)),
        ]),
      ),
    );
  }
  const reqs = layout?.writer === "rebar3" ? [...m.requirements].sort((a, b) => byBytes(a.name, b.name)) : m.requirements;
  return list(
    reqs.map((r) =>
      tuple(
        bin(r.name),
        list([
          tuple(bin("app"), bin(r.app)),
          tuple(bin("optional"), atom(r.optional ? "true" : "false")),
          tuple(bin("requirement"), bin(r.requirement)),
          ...(r.repository !== undefined && layout?.writer !== "rebar3" ? [tuple(bin("repository"), bin(r.repository))] : []),
        ]),
      ),
    ),
  );
}

/** metadata.config text, keys sorted as hex_core writes them; requirements in the layout's form (default: the map form). */
export function formatMetadata(m: HexMetadata, layout?: MetadataLayout): string {
  const absent = new Set(layout?.absent ?? []);
  const entries: Array<[string, Term]> = [
    ["app", bin(m.app)],
    ["build_tools", list(m.buildTools.map(bin))],
    ...(m.description !== undefined && !absent.has("description") ? ([["description", bin(m.description)]] as Array<[string, Term]>) : []),
    ...(m.elixir !== undefined ? ([["elixir", bin(m.elixir)]] as Array<[string, Term]>) : []),
    ["files", list(m.files.map(bin))],
    ...(absent.has("licenses") ? [] : ([["licenses", list(m.licenses.map(bin))]] as Array<[string, Term]>)),
    ...(absent.has("links") ? [] : ([["links", list(m.links.map(([k, v]) => tuple(bin(k), bin(v))))]] as Array<[string, Term]>)),
    ["name", bin(m.name)],
    ["requirements", requirementsTerm(m, layout)],
    ["version", bin(m.version)],
  ];
  return entries.map(([k, v]) => `${formatTerm(tuple(bin(k), v))}.\n`).join("");
}
