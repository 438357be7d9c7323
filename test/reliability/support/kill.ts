import { spawn } from "node:child_process";
import { PKGPUB_BIN } from "../../support/cli.js";
import type { Store } from "../../../src/store/store.js";

/** A seeded generator, so that a failing kill point can be replayed (PKGPUB_RELIABILITY_SEED). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export const SEED = Number(process.env.PKGPUB_RELIABILITY_SEED ?? 20261122);
/** `npm run test:reliability` sets this for the full trial counts. */
export const FULL = process.env.PKGPUB_RELIABILITY_FULL === "1";
/** Per-test timeout of the repeated tests: the full counts on S3 take many minutes. */
export const LONG_TEST_MS = FULL ? 30 * 60_000 : 5 * 60_000;

/**
 * Runs `pkgpub ...args` as a real process and SIGKILLs it after `afterMs` (never, when
 * undefined). Resolves with how it ended and how long it ran.
 */
export function runAndKill(args: string[], env: NodeJS.ProcessEnv, afterMs?: number): Promise<{ killed: boolean; code: number | null; ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [PKGPUB_BIN, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = afterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), afterMs);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === "SIGKILL", code, ms: performance.now() - started, stderr });
    });
  });
}

/** Puts every object of a snapshot into an empty store (a copy of a state, for either store kind). */
export async function seed(store: Store, objects: Map<string, Buffer>): Promise<void> {
  for (const [key, bytes] of objects) await store.put(key, bytes);
}

async function storeState(store: Store): Promise<string> {
  const parts: string[] = [];
  for await (const o of store.list("")) parts.push(`${o.key} ${o.etag}`);
  return parts.join("\n");
}

/** How many times a run changes the store, seen from outside by polling its listing. */
export async function countChanges(store: Store, run: () => Promise<unknown>): Promise<number> {
  let previous = await storeState(store);
  let changes = 0;
  let done = false;
  const running = run().finally(() => (done = true));
  while (!done) {
    const now = await storeState(store);
    if (now !== previous) changes++;
    previous = now;
    await new Promise((r) => setTimeout(r, 2));
  }
  await running;
  if ((await storeState(store)) !== previous) changes++;
  return Math.max(changes, 1);
}

/**
 * Runs `pkgpub ...args` and SIGKILLs it once the store has been seen to change `changes`
 * times, `delayMs` later (changes 0: `delayMs` after the start). Timing alone would land most
 * kills in the process's start-up or after its last write on a busy machine.
 */
export async function killAfterChanges(store: Store, args: string[], env: NodeJS.ProcessEnv, changes: number, delayMs: number): Promise<{ killed: boolean; code: number | null }> {
  let previous = await storeState(store);
  const child = spawn(process.execPath, [PKGPUB_BIN, ...args], { env, stdio: ["ignore", "ignore", "ignore"] });
  const exited = new Promise<{ killed: boolean; code: number | null }>((resolve) => child.on("exit", (code, signal) => resolve({ killed: signal === "SIGKILL", code })));
  let running = true;
  void exited.then(() => (running = false));
  let seen = 0;
  while (running && seen < changes) {
    const now = await storeState(store);
    if (now !== previous) seen++;
    previous = now;
    if (seen < changes) await new Promise((r) => setTimeout(r, 2));
  }
  if (running) setTimeout(() => child.kill("SIGKILL"), delayMs);
  return exited;
}
