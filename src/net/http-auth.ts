import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse, type TomlTable } from "smol-toml";

/**
 * Credentials for outgoing downloads, per host (artifact servers behind a login, a private
 * upstream): a bearer token or basic credentials, from PKGPUB_HTTP_AUTH or an http_auth TOML
 * file. The secret values are held here and only ever put into an Authorization header;
 * messages name the host and where the secret came from, never the secret.
 */

export interface HttpCredential {
  /** host[:port], lower-case, as URL.host gives it. */
  host: string;
  kind: "bearer" | "basic";
  /** Where it was configured, for messages ("PKGPUB_HTTP_AUTH", "auth.toml [[http_auth]] 2"). */
  source: string;
  /** The Authorization header value. */
  header: string;
}

export class HttpAuthError extends Error {
  override name = "HttpAuthError";
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export class HttpAuth {
  private readonly byHost = new Map<string, HttpCredential>();

  constructor(entries: HttpCredential[] = []) {
    for (const e of entries) this.byHost.set(e.host, e);
  }

  get size(): number {
    return this.byHost.size;
  }

  /** The configured hosts, for logs. */
  hosts(): string[] {
    return [...this.byHost.keys()].sort();
  }

  /**
   * The Authorization header for a request to this URL, if its host has credentials. Like Pkg,
   * never over plain http except to loopback: refused with an error rather than sent.
   */
  headerFor(url: URL): string | undefined {
    const cred = this.byHost.get(url.host.toLowerCase());
    if (!cred) return undefined;
    if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname.toLowerCase()))) {
      throw new HttpAuthError(`credentials for ${cred.host} (${cred.source}) are only sent over https; refusing ${url.protocol}//${url.host}`);
    }
    return cred.header;
  }
}

function normaliseHost(host: string, source: string): string {
  const h = host.trim().toLowerCase();
  if (!/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/.test(h)) throw new HttpAuthError(`${source}: ${JSON.stringify(host)} is not a host or host:port`);
  return h;
}

function secret(value: string, env: NodeJS.ProcessEnv, source: string, what: string): string {
  if (value.startsWith("env:")) {
    const name = value.slice(4);
    const v = env[name];
    if (v === undefined || v === "") throw new HttpAuthError(`${source}: ${what} env:${name}: the environment variable is not set`);
    return v;
  }
  if (value === "") throw new HttpAuthError(`${source}: empty ${what}`);
  return value;
}

const bearer = (host: string, token: string, source: string): HttpCredential => ({ host, kind: "bearer", source, header: `Bearer ${token}` });
const basic = (host: string, user: string, password: string, source: string): HttpCredential => ({
  host,
  kind: "basic",
  source,
  header: `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`,
});

/**
 * PKGPUB_HTTP_AUTH: entries separated by ";" or newlines, each `host=bearer:TOKEN` or
 * `host=basic:USER:PASSWORD`; TOKEN and PASSWORD may be env:VAR to read another variable.
 */
export function parseHttpAuthList(text: string, env: NodeJS.ProcessEnv, source = "PKGPUB_HTTP_AUTH"): HttpCredential[] {
  const out: HttpCredential[] = [];
  text.split(/[;\n]/).map((s) => s.trim()).filter(Boolean).forEach((entry, i) => {
    const where = `${source} entry ${i + 1}`;
    const eq = entry.indexOf("=");
    if (eq < 0) throw new HttpAuthError(`${where}: expected host=bearer:TOKEN or host=basic:USER:PASSWORD`);
    const host = normaliseHost(entry.slice(0, eq), where);
    const rest = entry.slice(eq + 1);
    if (rest.startsWith("bearer:")) out.push(bearer(host, secret(rest.slice(7), env, where, "token"), where));
    else if (rest.startsWith("basic:")) {
      const body = rest.slice(6);
      const colon = body.indexOf(":");
      if (colon <= 0) throw new HttpAuthError(`${where}: basic needs USER:PASSWORD`);
      out.push(basic(host, body.slice(0, colon), secret(body.slice(colon + 1), env, where, "password"), where));
    } else throw new HttpAuthError(`${where}: the scheme must be bearer: or basic:`);
  });
  return out;
}

/**
 * An auth file: `[[http_auth]]` tables with `host` and either `token_env` (bearer) or
 * `username` + `password_env` (basic). Secrets stay in the environment, not in the file.
 */
export function parseHttpAuthToml(text: string, file: string, env: NodeJS.ProcessEnv): HttpCredential[] {
  let t: TomlTable;
  try {
    t = parse(text);
  } catch (err) {
    throw new HttpAuthError(`${file}: invalid TOML: ${(err as Error).message.split("\n")[0]}`);
  }
  const list = t.http_auth ?? [];
  if (!Array.isArray(list)) throw new HttpAuthError(`${file}: http_auth must be an array of tables ([[http_auth]])`);
  return list.map((e, i) => {
    const where = `${file} [[http_auth]] ${i + 1}`;
    if (typeof e !== "object" || e === null || Array.isArray(e)) throw new HttpAuthError(`${where}: must be a table`);
    const entry = e as TomlTable;
    for (const k of Object.keys(entry)) {
      if (!["host", "token_env", "username", "password_env"].includes(k)) throw new HttpAuthError(`${where}: unknown key ${k} (secrets go in the environment: token_env, password_env)`);
    }
    if (typeof entry.host !== "string") throw new HttpAuthError(`${where}: host must be a string`);
    const host = normaliseHost(entry.host, where);
    if (typeof entry.token_env === "string") return bearer(host, secret(`env:${entry.token_env}`, env, where, "token_env"), where);
    if (typeof entry.username === "string" && typeof entry.password_env === "string") {
      return basic(host, entry.username, secret(`env:${entry.password_env}`, env, where, "password_env"), where);
    }
    throw new HttpAuthError(`${where}: give token_env, or username and password_env`);
  });
}

const MAX_REDIRECTS = 5;

/**
 * fetch with redirects followed here, so that each hop gets the Authorization of its own host
 * and a token is never carried to another host.
 */
export async function fetchWithAuth(
  url: string,
  init: { signal?: AbortSignal; headers?: Record<string, string> },
  auth: HttpAuth | undefined,
  doFetch: typeof fetch = fetch,
): Promise<Response> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { ...init.headers };
    const authorization = auth?.headerFor(current);
    if (authorization) headers.authorization = authorization;
    const res = await doFetch(current, { redirect: "manual", signal: init.signal, headers });
    if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
    const location = res.headers.get("location");
    await res.body?.cancel();
    if (!location) throw new Error(`HTTP ${res.status} without a Location`);
    if (hop >= MAX_REDIRECTS) throw new Error("too many redirects");
    const next = new URL(location, current);
    if (next.protocol !== "https:" && next.protocol !== "http:") throw new Error(`redirected to a ${next.protocol} URL`);
    current = next;
  }
}

/**
 * The credentials a command runs with: PKGPUB_HTTP_AUTH, plus the file named by `file` (a
 * flag) or PKGPUB_HTTP_AUTH_FILE. A host given twice keeps the later entry (the file's).
 */
export async function loadHttpAuth(env: NodeJS.ProcessEnv, cwd: string, file?: string): Promise<HttpAuth> {
  const entries = parseHttpAuthList(env.PKGPUB_HTTP_AUTH ?? "", env);
  const name = file ?? env.PKGPUB_HTTP_AUTH_FILE;
  if (name) {
    let text: string;
    try {
      text = await readFile(path.resolve(cwd, name), "utf8");
    } catch {
      throw new HttpAuthError(`${name}: cannot read the http_auth file`);
    }
    entries.push(...parseHttpAuthToml(text, name, env));
  }
  return new HttpAuth(entries);
}
