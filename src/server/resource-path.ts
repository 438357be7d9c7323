/**
 * Strict parsing of request targets into the resources the server knows. Anything that is not
 * exactly one of the protocol shapes is refused before a store or an upstream sees it: a key is
 * only ever built from segments that passed these patterns.
 */

export const MAX_TARGET_LENGTH = 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TREE_HASH = /^[0-9a-f]{40}$/;
/** Repository names: hex.pm organisation names and the local names an operator picks. */
const HEX_REPO = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** hex.pm's package name rule. */
const HEX_NAME = /^[a-z][a-z0-9_]{0,127}$/;
/** SemVer 2.0 as Hex accepts it; `+build` is kept verbatim (never decoded to a space). */
const HEX_VERSION =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const HEX_TARBALL = /^([a-z][a-z0-9_]{0,127})-(.+)\.tar$/;

export type HexResource =
  | { kind: "names" }
  | { kind: "versions" }
  | { kind: "public_key" }
  | { kind: "package"; name: string }
  | { kind: "tarball"; name: string; version: string }
  /** Hex's update check (installs/hex-1.x.csv and .signed), passed through by mirrors. */
  | { kind: "installs"; file: string }
  /** A release's docs tarball (`mix hex.docs fetch`), uploaded through the Hex API. */
  | { kind: "docs"; name: string; version: string };

export type Resource =
  | { kind: "index" }
  | { kind: "health" }
  | { kind: "metrics" }
  /** /registries, or one flavour of it (PkgServer's /registries.eager, /registries.conservative). */
  | { kind: "registries"; flavor?: "eager" | "conservative" }
  | { kind: "registry"; uuid: string; hash: string }
  | { kind: "package"; uuid: string; hash: string }
  | { kind: "artifact"; hash: string }
  | { kind: "hex"; repo: string; resource: HexResource }
  /** A browse page for one package: /browse/hex/<repo>/<name> or /browse/julia/<registry-uuid>/<Name>. */
  | { kind: "browse"; ecosystem: "hex" | "julia"; scope: string; name: string }
  /** A page of a release's docs: /docs/<repo>/<name>[/<version>[/<file>]]; no version means the newest. */
  | { kind: "docs"; repo: string; name: string; version?: string; file?: string };

export type ParseResult =
  | { ok: true; resource: Resource; path: string }
  | { ok: false; status: 400 | 404; reason: string };

const bad = (reason: string): ParseResult => ({ ok: false, status: 400, reason });
const unknown = (reason: string): ParseResult => ({ ok: false, status: 404, reason });

/**
 * Parses a raw request target ("/package/<uuid>/<hash>?x=1"). The query string is ignored, as
 * PkgServer does. Percent-escapes are refused outright: no protocol resource needs one, and
 * decoding is where encoded traversal ("%2e%2e", "%2f") sneaks in.
 */
export function parseTarget(target: string): ParseResult {
  if (target.length > MAX_TARGET_LENGTH) return bad(`request target longer than ${MAX_TARGET_LENGTH} bytes`);
  if (!target.startsWith("/")) return bad("request target must be an absolute path");
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  if (path.includes("%")) return bad("percent-encoded characters are not allowed in resource paths");
  if (path.includes("\\")) return bad("backslashes are not allowed in resource paths");
  if (/[\u0000-\u001f\u007f]/.test(path)) return bad("control characters are not allowed in resource paths");
  if (path === "/") return { ok: true, resource: { kind: "index" }, path };
  if (path.startsWith("/docs/")) return parseDocs(path);
  if (path.startsWith("/browse/")) return parseBrowse(path);
  const segments = path.slice(1).split("/");
  if (segments.some((s) => s === "." || s === "..")) return bad("'.' and '..' path segments are not allowed");
  if (segments.some((s) => s === "")) {
    return bad("empty path segment (a trailing slash in a configured repository URL gives '//')");
  }
  const ok = (resource: Resource): ParseResult => ({ ok: true, resource, path });
  const [head, ...rest] = segments as [string, ...string[]];
  switch (head) {
    case "health":
      return rest.length === 0 ? ok({ kind: "health" }) : unknown("unknown resource");
    case "metrics":
      return rest.length === 0 ? ok({ kind: "metrics" }) : unknown("unknown resource");
    case "registries":
      return rest.length === 0 ? ok({ kind: "registries" }) : unknown("unknown resource");
    case "registries.eager":
    case "registries.conservative":
      return rest.length === 0 ? ok({ kind: "registries", flavor: head === "registries.eager" ? "eager" : "conservative" }) : unknown("unknown resource");
    case "registry":
    case "package": {
      if (rest.length !== 2) return bad(`expected /${head}/<uuid>/<tree-sha1>`);
      const [uuid, hash] = rest as [string, string];
      if (!UUID.test(uuid)) return bad(`malformed uuid ${JSON.stringify(uuid)} (lower-case 8-4-4-4-12 hex expected)`);
      if (!TREE_HASH.test(hash)) return bad(`malformed tree hash ${JSON.stringify(hash)} (40 lower-case hex digits expected)`);
      return ok({ kind: head, uuid, hash });
    }
    case "artifact": {
      if (rest.length !== 1) return bad("expected /artifact/<tree-sha1>");
      const hash = rest[0]!;
      if (!TREE_HASH.test(hash)) return bad(`malformed tree hash ${JSON.stringify(hash)} (40 lower-case hex digits expected)`);
      return ok({ kind: "artifact", hash });
    }
    case "repos":
      return parseHex(rest, ok);
    default:
      return unknown("unknown resource");
  }
}

/** /docs/<repo>/<name>/<version>/<file…>: a trailing "/" names the directory's index.html. */
function parseDocs(path: string): ParseResult {
  const segments = path.slice("/docs/".length).split("/");
  const trailing = segments.length > 1 && segments[segments.length - 1] === "";
  if (trailing) segments.pop();
  if (segments.some((s) => s === "" || s === "." || s === "..")) return bad("empty, '.' and '..' path segments are not allowed");
  const [repo, name, version, ...file] = segments;
  if (repo === undefined || name === undefined) return unknown("expected /docs/<repo>/<package>/<version>/");
  if (!HEX_REPO.test(repo)) return bad(`malformed repository name ${JSON.stringify(repo)}`);
  if (!HEX_NAME.test(name)) return bad(`malformed package name ${JSON.stringify(name)}`);
  if (version !== undefined && !HEX_VERSION.test(version)) return bad(`malformed version ${JSON.stringify(version)}`);
  const resource: Resource = { kind: "docs", repo, name, ...(version !== undefined ? { version } : {}) };
  // "/docs/r/n/1.0.0" (no slash) has no file: relative links would break, so it is redirected.
  if (version !== undefined && (file.length > 0 || trailing)) resource.file = [...file, ...(trailing ? ["index.html"] : [])].join("/");
  return { ok: true, resource, path };
}

/** Julia package names are identifiers; Hex names and repositories follow their rules above. */
function parseBrowse(path: string): ParseResult {
  const [ecosystem, scope, name, ...more] = path.slice("/browse/".length).split("/");
  if (more.length > 0 || scope === undefined || name === undefined) return unknown("expected /browse/hex/<repo>/<name> or /browse/julia/<registry-uuid>/<name>");
  if (ecosystem === "hex") {
    if (!HEX_REPO.test(scope)) return bad(`malformed repository name ${JSON.stringify(scope)}`);
    if (!HEX_NAME.test(name)) return bad(`malformed package name ${JSON.stringify(name)}`);
  } else if (ecosystem === "julia") {
    if (!UUID.test(scope)) return bad(`malformed registry uuid ${JSON.stringify(scope)}`);
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) return bad(`malformed package name ${JSON.stringify(name)}`);
  } else return unknown("expected /browse/hex/… or /browse/julia/…");
  return { ok: true, resource: { kind: "browse", ecosystem, scope, name }, path };
}

function parseHex(rest: string[], ok: (r: Resource) => ParseResult): ParseResult {
  if (rest.length < 2) return unknown("unknown resource");
  const repo = rest[0]!;
  if (!HEX_REPO.test(repo)) return bad(`malformed repository name ${JSON.stringify(repo)}`);
  const hex = (resource: HexResource) => ok({ kind: "hex", repo, resource });
  const [what, ...args] = rest.slice(1) as [string, ...string[]];
  if (args.length === 0) {
    if (what === "names" || what === "versions" || what === "public_key") return hex({ kind: what });
    return unknown("unknown resource");
  }
  if (args.length !== 1) return unknown("unknown resource");
  const arg = args[0]!;
  if (what === "packages") {
    if (!HEX_NAME.test(arg)) return bad(`malformed package name ${JSON.stringify(arg)}`);
    return hex({ kind: "package", name: arg });
  }
  if (what === "tarballs") {
    const m = HEX_TARBALL.exec(arg);
    // The name cannot contain "-", so the first "-" splits name from version.
    if (!m) return bad(`malformed tarball name ${JSON.stringify(arg)} (expected <name>-<version>.tar)`);
    const name = m[1]!;
    const version = m[2]!;
    if (!HEX_VERSION.test(version)) return bad(`malformed version ${JSON.stringify(version)}`);
    return hex({ kind: "tarball", name, version });
  }
  if (what === "docs") {
    const m = /^([a-z][a-z0-9_]{0,127})-(.+)\.tar\.gz$/.exec(arg);
    if (!m || !HEX_VERSION.test(m[2]!)) return bad(`malformed docs tarball name ${JSON.stringify(arg)} (expected <name>-<version>.tar.gz)`);
    return hex({ kind: "docs", name: m[1]!, version: m[2]! });
  }
  if (what === "installs") {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(arg)) return bad(`malformed installs file name ${JSON.stringify(arg)}`);
    return hex({ kind: "installs", file: arg });
  }
  return unknown("unknown resource");
}

/** The store key of a store-backed resource; null for the ones that are not objects. */
export function storeKey(resource: Resource): string | null {
  switch (resource.kind) {
    case "registries":
      // `registries` is the eager listing (and the only one a flavourless store has).
      return resource.flavor === "conservative" ? "registries.conservative" : "registries";
    case "registry":
    case "package":
      return `${resource.kind}/${resource.uuid}/${resource.hash}`;
    case "artifact":
      return `artifact/${resource.hash}`;
    case "hex": {
      const base = `repos/${resource.repo}`;
      const r = resource.resource;
      if (r.kind === "package") return `${base}/packages/${r.name}`;
      if (r.kind === "tarball") return `${base}/tarballs/${r.name}-${r.version}.tar`;
      if (r.kind === "installs") return `${base}/installs/${r.file}`;
      if (r.kind === "docs") return `${base}/docs/${r.name}-${r.version}.tar.gz`;
      return `${base}/${r.kind}`;
    }
    default:
      return null;
  }
}

/** Content-addressed resources never change; everything else may. */
export function isImmutable(resource: Resource): boolean {
  return resource.kind === "registry" || resource.kind === "package" || resource.kind === "artifact";
}

export function contentTypeOf(resource: Resource): string {
  switch (resource.kind) {
    case "registries":
      return "text/plain; charset=utf-8";
    case "registry":
    case "package":
    case "artifact":
      return "application/x-gzip";
    case "hex":
      return resource.resource.kind === "public_key" ? "application/x-pem-file" : "application/octet-stream";
    default:
      return "text/plain; charset=utf-8";
  }
}

/** A low-cardinality label for metrics and logs. */
export function routeLabel(resource: Resource): string {
  if (resource.kind === "hex") return `hex_${resource.resource.kind}`;
  return resource.kind;
}
