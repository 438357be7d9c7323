// The Action's mode: mirror: `pkgpub mirror julia` / `mirror hex` on lock files in the checkout,
// for a scheduled workflow that keeps an air-gapped store filled.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { mirrorHex } from "../mirror/hex.js";
import { mirrorJulia } from "../mirror/julia.js";
import { loadHttpAuth } from "../net/http-auth.js";
import { openStore } from "../store/open-store.js";
import type { ActionInputs } from "./action-inputs.js";
import type { Outcome } from "./run-job.js";

/** A multi-valued input: one per line or comma-separated. */
const many = (v: string | undefined) => (v ?? "").split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

export async function mirrorOutcome(inputs: ActionInputs, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<Outcome> {
  const ws = env.GITHUB_WORKSPACE;
  if (!ws) throw new Error("GITHUB_WORKSPACE is not set: run this as a step after actions/checkout");
  const manifests = many(inputs.manifest);
  const locks = many(inputs.lock);
  if (manifests.length === 0 && locks.length === 0) throw new Error("mode mirror needs the manifest input (Julia) or the lock input (Hex)");
  if (!inputs.upstream) throw new Error("mode mirror needs the upstream input");
  const read = async (file: string, what: string) => {
    try {
      return { file, text: await readFile(path.resolve(ws, file), "utf8") };
    } catch {
      throw new Error(`${what} ${file}: cannot read the file in the checkout`);
    }
  };
  const auth = await loadHttpAuth(env, ws);
  const store = await openStore(inputs.store, env);
  const lines: string[] = [];
  let failed = 0;
  let written = 0;
  if (manifests.length > 0) {
    const files = await Promise.all(manifests.map((m) => read(m, "manifest")));
    const r = await mirrorJulia({ manifests: files, upstream: inputs.upstream, store, platforms: many(inputs.platform), auth, log });
    written += r.written.length;
    failed += r.failed.length;
    lines.push(`- Julia from ${inputs.upstream}: ${r.written.length} written, ${r.held} already held`, ...r.notes.map((n) => `- note: ${n}`), ...r.failed.map((f) => `- **failed**: ${f.what}: ${f.reason}`));
  }
  if (locks.length > 0) {
    if (!inputs["hex-repo"]) throw new Error("the lock input needs hex-repo (hexpm for repo.hex.pm)");
    if (!inputs["public-key"]) throw new Error("the lock input needs public-key (the upstream's PEM public key, a file in the checkout)");
    const files = await Promise.all(locks.map((l) => read(l, "lock")));
    const key = await read(inputs["public-key"], "public-key");
    const upstream = inputs["hex-upstream"] ?? inputs.upstream;
    const r = await mirrorHex({ locks: files, repo: inputs["hex-repo"], upstream, publicKeyPem: key.text, store, auth, log });
    written += r.written.length;
    failed += r.failed.length;
    lines.push(`- Hex ${inputs["hex-repo"]} from ${upstream}: ${r.written.length} written, ${r.held} already held`, ...r.notes.map((n) => `- note: ${n}`), ...r.failed.map((f) => `- **failed**: ${f.what}: ${f.reason}`));
  }
  return {
    conclusion: failed > 0 ? "failure" : "success",
    title: `Mirrored: ${written} objects written, ${failed} failed`,
    summary: lines.join("\n"),
    log: [],
  };
}
