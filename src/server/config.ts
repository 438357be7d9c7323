import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import type { KeyObject } from "node:crypto";
import { KeyError, parsePrivateKey } from "../hex/signing.js";

/**
 * `pkgpub serve` configuration: a TOML file, then environment variables, then flags (each
 * later source overrides the earlier), validated once at start. Every key has all three
 * spellings; errors name the key and where its value came from.
 */

export interface HexMirrorConfig {
  /** The local repository name: served at /repos/<name>. */
  name: string;
  /** e.g. https://repo.hex.pm */
  upstream: string;
  /** The repository name the upstream signs its resources with ("hexpm"). */
  repository: string;
  /** PEM of the upstream's public key. */
  publicKey: string;
  /** When set, only these packages are served. */
  allow?: string[];
  /** Seconds a registry resource (names, versions, packages/<name>) is reused before revalidation. */
  registryTtl: number;
}

export interface TokenConfig {
  name: string;
  token: string;
  /** Path prefixes the token may read ("/repos/acme", "/package"); "/" is everything. */
  scopes: string[];
  /** Hex repositories the token may publish, retire, revert and upload docs to (through the API). */
  publish?: string[];
  /** Of those, where it may also replace a published release with other bytes. */
  replace?: string[];
}

/** A Hex repository that takes writes through the HTTP API (`[[hex_publish]]`). */
export interface HexPublishConfig {
  repo: string;
  privateKey: KeyObject;
}

export interface ServeConfig {
  store: string;
  host: string;
  port: number;
  logLevel: string;
  cache: { dir: string; maxBytes: number };
  julia: { upstream?: string; registriesTtl: number };
  upstream: { timeout: number; failureThreshold: number; cooldown: number };
  hexMirrors: HexMirrorConfig[];
  tokens: TokenConfig[];
  hexPublish: HexPublishConfig[];
  maxConnections: number;
  /** Bytes of hot objects held in memory, for all workers together (0: none). */
  memoryCache: number;
  /** Server processes sharing the port (1: this process serves alone). */
  workers: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** One setting: its TOML key, flag and environment variable. */
interface Key {
  toml: string;
  flag: string;
  env: string;
  help: string;
}

export const KEYS: Key[] = [
  { toml: "store", flag: "--store", env: "PKGPUB_STORE", help: "the store: a directory, file://… or s3://bucket[/prefix] (default ./data)" },
  { toml: "host", flag: "--host", env: "PKGPUB_HOST", help: "address to listen on (default 127.0.0.1)" },
  { toml: "port", flag: "--port", env: "PKGPUB_PORT", help: "port (default 8000; 0 picks a free one)" },
  { toml: "log_level", flag: "--log-level", env: "PKGPUB_LOG_LEVEL", help: "fatal, error, warn, info (default), debug" },
  { toml: "workers", flag: "--workers", env: "PKGPUB_WORKERS", help: "server processes sharing the port: a number, or auto for one per core (default 1)" },
  { toml: "max_connections", flag: "--max-connections", env: "PKGPUB_MAX_CONNECTIONS", help: "open connections at most (default 4096)" },
  { toml: "memory_cache", flag: "--memory-cache", env: "PKGPUB_MEMORY_CACHE", help: "memory for hot tarballs (each up to 16 MiB), shared out among the workers: a size, or 0 for none (default 256MB)" },
  { toml: "cache.dir", flag: "--cache-dir", env: "PKGPUB_CACHE_DIR", help: "where verified upstream content is cached (default ./pkgpub-cache)" },
  { toml: "cache.max_size", flag: "--cache-max-size", env: "PKGPUB_CACHE_MAX_SIZE", help: "cache size limit: bytes or 500MB, 2GB, … (default 2GB)" },
  { toml: "julia.upstream", flag: "--julia-upstream", env: "PKGPUB_JULIA_UPSTREAM", help: "upstream Pkg server, e.g. https://pkg.julialang.org (default: none)" },
  { toml: "julia.registries_ttl", flag: "--julia-registries-ttl", env: "PKGPUB_JULIA_REGISTRIES_TTL", help: "seconds the upstream's /registries is reused (default 60)" },
  { toml: "upstream.timeout", flag: "--upstream-timeout", env: "PKGPUB_UPSTREAM_TIMEOUT", help: "seconds to wait for an upstream's response headers (default 10)" },
  { toml: "upstream.failure_threshold", flag: "--upstream-failure-threshold", env: "PKGPUB_UPSTREAM_FAILURE_THRESHOLD", help: "consecutive failures that mark an upstream down (default 5)" },
  { toml: "upstream.cooldown", flag: "--upstream-cooldown", env: "PKGPUB_UPSTREAM_COOLDOWN", help: "seconds a down upstream is left alone (default 30)" },
  { toml: "hex_mirror", flag: "--hex-mirror", env: "PKGPUB_HEX_MIRRORS", help: "a Hex mirror: name=hexpm,upstream=https://repo.hex.pm,repository=hexpm,public_key_file=hexpm.pem[,allow=jason+plug][,registry_ttl=300] (repeatable; env: separated by ';')" },
  { toml: "token", flag: "--token", env: "PKGPUB_TOKENS", help: "an access token: name:scope[,scope…]:secret, secret may be env:VAR; a scope publish=REPO (or replace=REPO) lets it publish (and replace) through the Hex API (repeatable; env: separated by ';' or newlines)" },
  { toml: "hex_publish", flag: "--hex-publish", env: "PKGPUB_HEX_PUBLISH", help: "open the Hex HTTP API (mix hex.publish, rebar3 hex publish) for a repository: repo=acme,private_key=keys/acme.pem (or private_key=env:VAR) (repeatable; env: separated by ';'; off by default)" },
];

export type FlagValues = Partial<Record<string, string | string[] | undefined>>;

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

const seconds = z.coerce.number().positive().max(86_400 * 365);
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must be an http:// or https:// URL")
  .refine((u) => !new URL(u).username && !new URL(u).password, "must not contain credentials")
  .transform((u) => u.replace(/\/+$/, ""));

const mirrorSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lower-case letters, digits, _ and -"),
    upstream: httpUrl,
    repository: z.string().min(1).default("hexpm"),
    public_key: z.string().optional(),
    public_key_file: z.string().optional(),
    allow: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, "a Hex package name")).optional(),
    registry_ttl: seconds.default(300),
  })
  .strict()
  .refine((m) => (m.public_key === undefined) !== (m.public_key_file === undefined), {
    message: "set exactly one of public_key and public_key_file",
  });

const tokenSchema = z
  .object({
    name: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . -"),
    token: z.string().min(16, "tokens must be at least 16 characters").optional(),
    token_env: z.string().optional(),
    scopes: z.array(z.string().regex(/^(julia|\/[A-Za-z0-9_./-]*)$/, "a path prefix such as /repos/acme or /, or julia")).default([]),
    publish: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a Hex repository name")).default([]),
    replace: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a Hex repository name")).default([]),
  })
  .strict()
  .refine((t) => (t.token === undefined) !== (t.token_env === undefined), { message: "set exactly one of token and token_env" })
  .refine((t) => t.scopes.length > 0 || t.publish.length > 0, { message: "give scopes (what it may read) or publish (where it may write), or both" })
  .refine((t) => t.replace.every((r) => t.publish.includes(r)), { message: "every repository in replace must also be in publish" });

const hexPublishSchema = z
  .object({
    repo: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lower-case letters, digits, _ and -"),
    private_key: z.string().min(1),
  })
  .strict();

const rawSchema = z
  .object({
    store: z.string().min(1).default("./data"),
    host: z.string().min(1).default("127.0.0.1"),
    port: z.coerce.number({ error: "not a port number (0 to 65535; 0 picks a free one)" }).int("not a port number (0 to 65535; 0 picks a free one)").min(0, "not a port number (0 to 65535; 0 picks a free one)").max(65535, "not a port number (0 to 65535; 0 picks a free one)").default(8000),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    max_connections: z.coerce.number().int().min(1).max(1_000_000).default(4096),
    memory_cache: z
      .union([z.number(), z.string()])
      .default("256MB")
      .transform((v, ctx) => {
        const n = typeof v === "number" ? v : parseSize(v);
        if (n === null || !(n >= 0) || n > 2 ** 45) {
          ctx.addIssue({ code: "custom", message: "a size such as 256MB or 1GB, or 0 for none" });
          return z.NEVER;
        }
        return n;
      }),
    workers: z
      .union([z.literal("auto"), z.coerce.number().int().min(1).max(256)], { error: 'a number of processes (1 to 256) or "auto"' })
      .default(1),
    cache: z
      .object({
        dir: z.string().min(1).default("./pkgpub-cache"),
        max_size: z
          .union([z.number(), z.string()])
          .default("2GB")
          .transform((v, ctx) => {
            const n = typeof v === "number" ? v : parseSize(v);
            if (n === null || !(n > 0)) {
              ctx.addIssue({ code: "custom", message: "a size such as 500MB or 2GB" });
              return z.NEVER;
            }
            return n;
          }),
      })
      .strict()
      .prefault({}),
    julia: z
      .object({ upstream: httpUrl.optional(), registries_ttl: seconds.default(60) })
      .strict()
      .prefault({}),
    upstream: z
      .object({
        timeout: seconds.default(10),
        failure_threshold: z.coerce.number().int().min(1).max(1000).default(5),
        cooldown: seconds.default(30),
      })
      .strict()
      .prefault({}),
    hex_mirror: z.array(mirrorSchema).default([]),
    token: z.array(tokenSchema).default([]),
    hex_publish: z.array(hexPublishSchema).default([]),
  })
  .strict();

function parseSize(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? "b").toLowerCase()]!);
}

/** Where each value came from, for error messages. */
type Origins = Map<string, string>;

export function loadConfig(flags: FlagValues, env: NodeJS.ProcessEnv, cwd: string): ServeConfig {
  const raw: Record<string, unknown> = {};
  const origins: Origins = new Map();
  const configPath = (flags.config as string | undefined) ?? env.PKGPUB_CONFIG;
  let configDir = cwd;
  // Relative paths resolve against the file only for values the file itself gives; a flag or
  // variable (or a default) resolves against the working directory.
  let fileDoc: Record<string, unknown> = {};
  if (configPath) {
    const file = path.resolve(cwd, configPath);
    configDir = path.dirname(file);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`config file ${configPath}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}`);
    }
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      const e = err as { line?: number; column?: number; message: string };
      throw new ConfigError(`config file ${configPath}${e.line ? `, line ${e.line}` : ""}: ${e.message.split("\n")[0]}`);
    }
    Object.assign(raw, doc);
    fileDoc = doc;
    for (const k of KEYS) origins.set(k.toml, `${configPath}`);
  }
  for (const key of KEYS) {
    const fromEnv = env[key.env];
    const fromFlag = flags[flagName(key)];
    if (key.toml === "hex_mirror" || key.toml === "token" || key.toml === "hex_publish") {
      const items: string[] = [];
      if (fromEnv !== undefined && fromEnv.trim() !== "") items.push(...fromEnv.split(/[;\n]/).map((s) => s.trim()).filter(Boolean));
      const flagItems = Array.isArray(fromFlag) ? fromFlag : fromFlag !== undefined ? [fromFlag] : [];
      if (items.length === 0 && flagItems.length === 0) continue;
      const parsedItems = [...items, ...flagItems].map((item) => (key.toml === "token" ? parseTokenItem(item, key) : parseMirrorItem(item, key)));
      raw[key.toml] = [...((raw[key.toml] as unknown[] | undefined) ?? []), ...parsedItems];
      origins.set(key.toml, `${origins.has(key.toml) ? `${origins.get(key.toml)}, ` : ""}${flagItems.length ? key.flag : key.env}`);
      continue;
    }
    const value = typeof fromFlag === "string" ? fromFlag : fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
    if (value === undefined) continue;
    setPath(raw, key.toml, value);
    origins.set(key.toml, typeof fromFlag === "string" ? key.flag : key.env);
  }
  const result = rawSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const p = issue.path.map(String);
      const name = keyPathName(p);
      const top = p[0] === "cache" || p[0] === "julia" || p[0] === "upstream" ? p.slice(0, 2).join(".") : (p[0] ?? "");
      const origin = origins.get(top);
      const keyInfo = KEYS.find((k) => k.toml === top);
      const where = origin ? ` (from ${origin})` : keyInfo ? ` (${keyInfo.flag}, ${keyInfo.env})` : "";
      const message = issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}` : issue.message;
      return `${name || "config"}${where}: ${message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const c = result.data;
  const inFile = (dotted: string) => dotted.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), fileDoc) !== undefined && origins.get(dotted) === configPath;
  const fileItems = (key: string) => (Array.isArray(fileDoc[key]) ? (fileDoc[key] as unknown[]).length : 0);
  const dirOf = (fromFile: boolean) => (fromFile ? configDir : cwd);
  const tokens = c.token.map((t, i) => {
    let secret = t.token;
    if (t.token_env !== undefined) {
      secret = env[t.token_env];
      if (!secret) throw new ConfigError(`token[${i}] (${t.name}): environment variable ${t.token_env} is not set`);
      if (secret.length < 16) throw new ConfigError(`token[${i}] (${t.name}): ${t.token_env} holds fewer than 16 characters`);
    }
    return { name: t.name, token: secret!, scopes: t.scopes, publish: t.publish, replace: t.replace };
  });
  const names = new Set<string>();
  for (const t of tokens) {
    if (names.has(t.name)) throw new ConfigError(`token: the name ${JSON.stringify(t.name)} is used twice`);
    names.add(t.name);
  }
  const mirrors = c.hex_mirror.map((m, i): HexMirrorConfig => {
    const mirrorDir = dirOf(i < fileItems("hex_mirror"));
    let publicKey = m.public_key;
    if (m.public_key_file !== undefined) {
      try {
        publicKey = readFileSync(path.resolve(mirrorDir, m.public_key_file), "utf8");
      } catch (err) {
        throw new ConfigError(`hex_mirror[${i}].public_key_file: cannot read ${m.public_key_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(publicKey!)) {
      throw new ConfigError(`hex_mirror[${i}].public_key${m.public_key_file ? "_file" : ""}: not a PEM public key`);
    }
    return { name: m.name, upstream: m.upstream, repository: m.repository, publicKey: publicKey!, allow: m.allow, registryTtl: m.registry_ttl };
  });
  const mirrorNames = new Set<string>();
  for (const m of mirrors) {
    if (mirrorNames.has(m.name)) throw new ConfigError(`hex_mirror: the name ${JSON.stringify(m.name)} is used twice`);
    mirrorNames.add(m.name);
  }
  const hexPublish = c.hex_publish.map((h, i): HexPublishConfig => {
    if (mirrorNames.has(h.repo)) throw new ConfigError(`hex_publish[${i}]: repository ${h.repo} is also a hex_mirror`);
    return { repo: h.repo, privateKey: loadKey(h.private_key, `hex_publish[${i}].private_key`, env, dirOf(i < fileItems("hex_publish"))) };
  });
  const publishRepos = new Set<string>();
  for (const h of hexPublish) {
    if (publishRepos.has(h.repo)) throw new ConfigError(`hex_publish: the repository ${JSON.stringify(h.repo)} is listed twice`);
    publishRepos.add(h.repo);
  }
  for (const t of tokens) {
    for (const r of t.publish) if (!publishRepos.has(r)) throw new ConfigError(`token ${t.name}: publish names ${r}, which has no [[hex_publish]] entry (--hex-publish, PKGPUB_HEX_PUBLISH)`);
  }
  return {
    // URLs stay as given (openStore refuses mistyped ones); a path is made absolute here.
    store: /^[a-z][a-z0-9+.-]+:/i.test(c.store) ? c.store : path.resolve(dirOf(inFile("store")), c.store),
    host: c.host,
    port: c.port,
    logLevel: c.log_level,
    maxConnections: c.max_connections,
    memoryCache: c.memory_cache,
    workers: c.workers === "auto" ? availableParallelism() : c.workers,
    cache: { dir: path.resolve(dirOf(inFile("cache.dir")), c.cache.dir), maxBytes: c.cache.max_size },
    julia: { upstream: c.julia.upstream, registriesTtl: c.julia.registries_ttl },
    upstream: { timeout: c.upstream.timeout, failureThreshold: c.upstream.failure_threshold, cooldown: c.upstream.cooldown },
    hexMirrors: mirrors,
    tokens,
    hexPublish,
  };
}

/** A private key given as a PEM file (relative to the config file) or env:VAR; errors never show the key. */
function loadKey(spec: string, where: string, env: NodeJS.ProcessEnv, baseDir: string): KeyObject {
  if (spec.includes("-----BEGIN") || spec.includes("\n")) throw new ConfigError(`${where}: takes a PEM file path or env:VAR, not the key text itself`);
  let pem: string;
  if (spec.startsWith("env:")) {
    const value = env[spec.slice(4)];
    if (value === undefined || value.trim() === "") throw new ConfigError(`${where}: the environment variable ${spec.slice(4)} is not set`);
    pem = value;
  } else {
    try {
      pem = readFileSync(path.resolve(baseDir, spec), "utf8");
    } catch {
      throw new ConfigError(`${where}: cannot read ${spec}`);
    }
  }
  try {
    return parsePrivateKey(pem, `${where} ${spec}`);
  } catch (err) {
    if (err instanceof KeyError) throw new ConfigError(err.message);
    throw err;
  }
}

/** The parseArgs name of a key's flag ("--cache-dir" → "cache-dir"). */
export function flagName(key: Key): string {
  return key.flag.slice(2);
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let obj = target;
  for (const p of parts.slice(0, -1)) {
    const next = obj[p];
    if (typeof next !== "object" || next === null || Array.isArray(next)) obj[p] = {};
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]!] = value;
}

function keyPathName(p: string[]): string {
  let out = "";
  for (const part of p) out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}

function parseMirrorItem(item: string, key: Key): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of item.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${key.flag}/${key.env}: expected key=value pairs separated by ',', got ${JSON.stringify(pair)}`);
    const k = pair.slice(0, eq).trim().replace(/-/g, "_");
    const v = pair.slice(eq + 1).trim();
    out[k] = k === "allow" ? v.split("+").filter(Boolean) : v;
  }
  return out;
}

function parseTokenItem(item: string, key: Key): Record<string, unknown> {
  const first = item.indexOf(":");
  const second = first < 0 ? -1 : item.indexOf(":", first + 1);
  // Never echo the item: it holds the secret.
  if (first <= 0 || second < 0) throw new ConfigError(`${key.flag}/${key.env}: expected name:scope[,scope…]:secret`);
  const name = item.slice(0, first);
  const all = item.slice(first + 1, second).split(",").filter(Boolean);
  // publish=REPO and replace=REPO are the [[token]] publish/replace lists in flag form.
  const scopes = all.filter((s) => !/^(publish|replace)=/.test(s));
  const publish = all.filter((s) => s.startsWith("publish=")).map((s) => s.slice("publish=".length));
  const replace = all.filter((s) => s.startsWith("replace=")).map((s) => s.slice("replace=".length));
  for (const r of replace) if (!publish.includes(r)) publish.push(r);
  const secret = item.slice(second + 1);
  const rights = { name, scopes, ...(publish.length ? { publish } : {}), ...(replace.length ? { replace } : {}) };
  return secret.startsWith("env:") ? { ...rights, token_env: secret.slice(4) } : { ...rights, token: secret };
}
