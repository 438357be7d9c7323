// Starts the server a server test runs against: in this process (startServer), or, with
// PKGPUB_TEST_WORKERS=n in the environment, as `pkgpub serve --workers n` in a child process
// configured the same way, so that the same tests check a multi-worker server.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { inject, it } from "vitest";
import { startServer, type ServerOptions } from "../../src/server/start-server.js";
import { FsStore } from "../../src/store/fs-store.js";
import { S3Store } from "../../src/store/s3-store.js";
import type { Store } from "../../src/store/store.js";
import { PKGPUB_BIN } from "./cli.js";

/** What server tests use of a running server, in either form. */
export interface TestServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** The worker count the tests run with (1: in-process). */
export const TEST_WORKERS = Math.max(1, Number(process.env.PKGPUB_TEST_WORKERS ?? "1") || 1);

/**
 * A test of one server process's own state (its refresh timer, its LRU, its breaker, its log
 * buffer): defined only for the in-process run, which `npm test` always makes, so the
 * multi-worker run neither skips nor misreads it.
 */
export const itInOneProcess = ((name: string, fn: () => Promise<void>, timeout?: number) => {
  if (TEST_WORKERS <= 1) it(name, fn, timeout);
}) as (name: string, fn: () => Promise<void>, timeout?: number) => void;

export async function startTestServer(options: ServerOptions & { store: Store }): Promise<TestServer> {
  const storeSpec = storeSpecOf(options.store);
  const inProcess = TEST_WORKERS === 1 || storeSpec === null || options.metrics || options.door || options.renderMetrics || options.headersTimeoutMs || options.shutdownGraceMs;
  if (inProcess) return startServer(options);
  return startCluster(options, storeSpec);
}

function storeSpecOf(store: Store): { spec: string; env: Record<string, string> } | null {
  if (store instanceof FsStore) return { spec: store.root, env: {} };
  if (store instanceof S3Store) return { spec: `s3://${store.bucket}${store.prefix ? `/${store.prefix.replace(/\/+$/, "")}` : ""}`, env: inject("s3Env") };
  return null;
}

const str = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(str).join(", ")}]`;

/** The options as a pkgpub.toml. */
function toml(options: ServerOptions, store: string): string {
  const out = [`store = ${str(store)}`, `host = ${str(options.host ?? "127.0.0.1")}`, `port = ${options.port ?? 0}`, `workers = ${TEST_WORKERS}`];
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
  for (const t of options.tokens ?? []) {
    out.push("[[token]]", `name = ${str(t.name)}`, `token = ${str(t.token)}`, `scopes = ${list(t.scopes)}`);
    if (t.publish?.length) out.push(`publish = ${list(t.publish)}`);
    if (t.replace?.length) out.push(`replace = ${list(t.replace)}`);
  }
  return `${out.join("\n")}\n`;
}

async function startCluster(options: ServerOptions & { store: Store }, store: { spec: string; env: Record<string, string> }): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pkgpub-test-cluster-"));
  const config = path.join(dir, "pkgpub.toml");
  writeFileSync(config, toml(options, store.spec));
  const child = spawn(process.execPath, [PKGPUB_BIN, "serve", "--config", config], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, ...store.env },
  });
  const sink = options.log instanceof Writable ? options.log : undefined;
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  // The banner for us, the JSON lines for the test's log sink (as startServer would write them).
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf("\n")) !== -1) {
      const line = out.slice(0, nl + 1);
      out = out.slice(nl + 1);
      if (line.startsWith("{")) {
        if (!/"msg":"worker (started|exited)"/.test(line)) sink?.write(line);
      } else banner += line;
    }
  });
  let banner = "";
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // A loaded CI machine can take long to start three processes.
  for (let i = 0; i < 2400 && !/JULIA_PKG_SERVER=\S+\n/.test(banner) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
  const url = /on (http:\/\/\S+)/.exec(banner)?.[1];
  if (!url) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pkgpub serve --workers ${TEST_WORKERS} did not start: ${banner}${err}`);
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    store: options.store,
    close: () =>
      (closing ??= (async () => {
        child.kill("SIGTERM");
        const code = await exited;
        rmSync(dir, { recursive: true, force: true });
        if (code !== 0) throw new Error(`pkgpub serve --workers ${TEST_WORKERS} exited ${code}: ${err}`);
      })()),
  };
}
