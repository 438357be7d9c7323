// The publisher's own environment: where stores may be, the Hex signing key. Repositories can
// name a store but only one of those the environment allows; keys never come from a repository.

import { readFile } from "node:fs/promises";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/store.js";

/** Opens the store a job names (default PKGPUB_STORE), refusing any the environment does not list. */
export function storeResolver(env: NodeJS.ProcessEnv, fallback?: string): (spec: string | undefined) => Promise<Store> {
  const primary = env.PKGPUB_STORE ?? fallback;
  const allowed = new Set([primary, ...(env.PKGPUB_STORES ?? "").split(",").map((s) => s.trim())].filter((s): s is string => !!s));
  return async (spec) => {
    const wanted = spec ?? primary;
    if (!wanted) throw new Error("no store configured: set PKGPUB_STORE in the publisher's environment");
    if (!allowed.has(wanted)) throw new Error(`store ${wanted} is not one this publisher may write to (PKGPUB_STORE / PKGPUB_STORES)`);
    return openStore(wanted, env);
  };
}

/** The Hex signing key: PKGPUB_HEX_KEY (PEM) or the file PKGPUB_HEX_KEY_FILE names. */
export async function hexKeyFromEnv(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.PKGPUB_HEX_KEY) return env.PKGPUB_HEX_KEY;
  if (env.PKGPUB_HEX_KEY_FILE) return readFile(env.PKGPUB_HEX_KEY_FILE, "utf8");
  return undefined;
}
