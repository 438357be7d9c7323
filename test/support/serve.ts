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
import { NOT_IN_CONFIG, serveConfigToml } from "./serve-config.js";

/** What server tests use of a running server, in either form. */
export interface TestServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** What startServer takes, with the store as an object (the test reads and writes it too). */
export type TestServerOptions = Omit<ServerOptions, "store"> & { store: Store };

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

/**
 * The server for a test that holds for any number of workers. Options that no config file can
 * express (NOT_IN_CONFIG, a store other than a directory or S3) belong to tests of one
 * process: those call startServer under itInOneProcess, and asking for them here in the
 * multi-worker run is an error rather than a quiet in-process run.
 */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  if (TEST_WORKERS === 1) return startServer(options);
  const storeSpec = storeSpecOf(options.store);
  const unsupported = [...NOT_IN_CONFIG.filter((k) => options[k] !== undefined), ...(storeSpec ? [] : [`store (${options.store.constructor.name})`])];
  if (unsupported.length > 0) throw new Error(`startTestServer: ${unsupported.join(", ")} cannot be given to pkgpub serve --workers ${TEST_WORKERS}; a test that needs it tests one process (itInOneProcess with startServer)`);
  return startCluster(options, storeSpec!);
}

function storeSpecOf(store: Store): { spec: string; env: Record<string, string> } | null {
  if (store instanceof FsStore) return { spec: store.root, env: {} };
  if (store instanceof S3Store) return { spec: `s3://${store.bucket}${store.prefix ? `/${store.prefix.replace(/\/+$/, "")}` : ""}`, env: inject("s3Env") };
  return null;
}

async function startCluster(options: TestServerOptions, store: { spec: string; env: Record<string, string> }): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pkgpub-test-cluster-"));
  const config = path.join(dir, "pkgpub.toml");
  writeFileSync(config, serveConfigToml(options, store.spec, { workers: TEST_WORKERS }));
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
