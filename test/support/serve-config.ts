// The pkgpub.toml a test's `pkgpub serve` child runs with: the settings a test would give
// startServer, written with the keys docs/configuration.md documents, so the child and the
// in-process server are configured alike. The one place test config files are generated.
import type { ServerOptions } from "../../src/server/start-server.js";

/** What only the config file (not ServerOptions) can say. */
export interface ConfigExtras {
  /** Server processes (the `workers` key); 1 or absent: one process. */
  workers?: number;
  /** [[hex_publish]] entries: private_key is a PEM file path (relative to the config) or env:VAR. */
  hexPublish?: { repo: string; privateKey: string }[];
}

/** The ServerOptions a config file cannot hold: a test passing one needs the in-process server. */
export const NOT_IN_CONFIG = ["metrics", "renderMetrics", "door", "publishRepos", "headersTimeoutMs", "shutdownGraceMs"] as const;

const str = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(str).join(", ")}]`;

export function serveConfigToml(options: ServerOptions, store: string, extras: ConfigExtras = {}): string {
  const out = [`store = ${str(store)}`, `host = ${str(options.host ?? "127.0.0.1")}`, `port = ${options.port ?? 0}`];
  if (extras.workers && extras.workers > 1) out.push(`workers = ${extras.workers}`);
  if (options.logLevel) out.push(`log_level = ${str(options.logLevel)}`);
  if (options.maxConnections) out.push(`max_connections = ${options.maxConnections}`);
  if (options.cache) out.push("[cache]", `dir = ${str(options.cache.dir)}`, ...(options.cache.maxBytes ? [`max_size = ${options.cache.maxBytes}`] : []));
  if (options.julia?.upstream) out.push("[julia]", `upstream = ${str(options.julia.upstream)}`, `registries_ttl = ${options.julia.registriesTtl ?? 60}`);
  if (options.upstream) {
    const u = options.upstream;
    out.push("[upstream]");
    if (u.timeout !== undefined) out.push(`timeout = ${u.timeout}`);
    if (u.failureThreshold !== undefined) out.push(`failure_threshold = ${u.failureThreshold}`);
    if (u.cooldown !== undefined) out.push(`cooldown = ${u.cooldown}`);
  }
  for (const m of options.hexMirrors ?? []) {
    out.push("[[hex_mirror]]", `name = ${str(m.name)}`, `upstream = ${str(m.upstream)}`, `repository = ${str(m.repository)}`, `public_key = ${str(m.publicKey)}`, `registry_ttl = ${m.registryTtl}`);
    if (m.allow) out.push(`allow = ${list(m.allow)}`);
  }
  for (const h of extras.hexPublish ?? []) out.push("[[hex_publish]]", `repo = ${str(h.repo)}`, `private_key = ${str(h.privateKey)}`);
  for (const t of options.tokens ?? []) {
    out.push("[[token]]", `name = ${str(t.name)}`, `token = ${str(t.token)}`, `scopes = ${list(t.scopes)}`);
    if (t.publish?.length) out.push(`publish = ${list(t.publish)}`);
    if (t.replace?.length) out.push(`replace = ${list(t.replace)}`);
  }
  return `${out.join("\n")}\n`;
}
