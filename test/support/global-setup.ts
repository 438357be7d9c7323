import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type {} from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER_DIR_PREFIX = "pkgpub-s3-";

declare module "vitest" {
  export interface ProvidedContext {
    /** AWS_* variables for the S3 test server every S3 test runs against. */
    s3Env: Record<string, string>;
  }
}

/**
 * Builds the CLI bundle (tests spawn bin/pkgpub.mjs as a user would) and starts the real S3 API
 * (Swift + s3api) unless one is already named by AWS_ENDPOINT_URL_S3.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  execFileSync(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });

  let stop = (): void => undefined;
  let s3Env: Record<string, string>;
  if (process.env.AWS_ENDPOINT_URL_S3) {
    s3Env = pickAws(process.env);
  } else {
    // Its own directory and ports: several test runs on one machine must not stop each other's
    // server (start wipes its directory and stops whatever its pid files name).
    const script = path.join(root, "test/support/s3-test-server.sh");
    stopAbandonedServers(script);
    const dir = mkdtempSync(path.join(os.tmpdir(), SERVER_DIR_PREFIX));
    const env = { ...process.env, S3_TEST_DIR: dir, S3_TEST_PORT: String(await freePorts(4)) };
    stop = () => {
      execFileSync("bash", [script, "stop"], { env, stdio: "inherit" });
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      // A server that does not start fails the run here: S3 tests never skip.
      const out = execFileSync("bash", [script, "start"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      s3Env = parseExports(out);
      // After start, which empties the directory: names this run for stopAbandonedServers.
      writeFileSync(path.join(dir, "owner.pid"), String(process.pid));
    } catch (err) {
      execFileSync("bash", [script, "stop"], { env, stdio: "inherit" });
      throw new Error(`the S3 test server did not start (${(err as Error).message.split("\n")[0]})\n${serverLogs(dir)}`);
    }
  }
  project.provide("s3Env", s3Env);
  return stop;
}

function pickAws(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith("AWS_") && v !== undefined) out[k] = v;
  return out;
}

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Z0-9_]+)=(\S+)/g)) out[m[1]!] = m[2]!;
  if (!out.AWS_ENDPOINT_URL_S3) throw new Error(`s3-test-server printed no endpoint: ${text}`);
  return out;
}

/** The first of `count` consecutive loopback ports that are free now (Swift needs 4). */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await canListen(p);
    if (free) return base;
  }
  throw new Error("global setup: found no free loopback ports for the S3 test server");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The servers' own output (startup tracebacks land there; later logging goes to syslog). */
function serverLogs(dir: string): string {
  const logs = path.join(dir, "logs");
  if (!existsSync(logs)) return `(no logs in ${logs})`;
  return readdirSync(logs)
    .map((f) => `--- ${path.join(logs, f)}\n${readFileSync(path.join(logs, f), "utf8").split("\n").slice(-30).join("\n")}`)
    .join("\n");
}

/**
 * Stops the S3 test servers of earlier runs that were killed before their teardown: each
 * server directory names the test run that owns it, and the script stops a server by the pid
 * files in its directory.
 */
function stopAbandonedServers(script: string): void {
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(SERVER_DIR_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, "owner.pid"), "utf8"));
    } catch {
      continue; // being set up right now, or not ours
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    execFileSync("bash", [script, "stop"], { env: { ...process.env, S3_TEST_DIR: dir }, stdio: "inherit" });
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
