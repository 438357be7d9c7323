// Reconcile: publish whatever the store lacks for the configured repositories, for the events
// webhooks never deliver (more than three tags pushed at once, tags made with GITHUB_TOKEN).
// Every step is idempotent, so running it again after a success writes nothing.

import { BUILD_TOOLS } from "../hex/plan-source.js";
import { z } from "zod";
import { RegistrationError } from "../julia/registration/register.js";
import { compareVersions, parseVersion } from "../julia/registration/versions.js";
import { redactSecrets as redact } from "../git/redact.js";
import { gitText } from "../git/run-git.js";
import type { Store } from "../store/store.js";
import { subdirForTag } from "./config.js";
import { normalizeUrl } from "./jobs.js";
import type { Publishers } from "./publishers.js";

export const reconcileTargetsSchema = z.object({
  registry: z.array(z.object({ url: z.string().min(1), branch: z.string().min(1).optional() }).strict()).default([]),
  julia_package: z
    .array(
      z.object({
        url: z.string().min(1),
        registry: z.string().min(1),
        subdir: z.string().min(1).optional(),
        subdirs: z.record(z.string(), z.string().min(1)).optional(),
        register: z.enum(["push", "pull-request"]).default("push"),
      }).strict(),
    )
    .default([]),
  hex_package: z.array(z.object({ url: z.string().min(1), repo: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), build_tool: z.enum(BUILD_TOOLS).optional() }).strict()).default([]),
}).strict();

export type ReconcileTargets = z.infer<typeof reconcileTargetsSchema>;

export interface ReconcileDeps {
  publishers: Publishers;
  store: Store;
  gitEnv?: NodeJS.ProcessEnv;
  hexKeyPem?: string;
  log?: (line: string) => void;
  /** Runs each step under a queue key, so reconcile and webhook jobs never overlap on one registry or Hex repository. */
  serialize?: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  /** The store spec the keys name (as in jobs' queue keys). */
  storeKey?: string;
}

export interface ReconcileReport {
  /** What was written: registrations and publishes that changed the store or a registry. */
  done: string[];
  /** Already in place, or tags that are not releases. */
  unchanged: string[];
  failed: string[];
}

const VERSION_TAG = /^(?:[A-Za-z_][A-Za-z0-9_]*-)?v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/;

/** The repository's release tags, oldest version first. */
export async function versionTags(url: string, gitEnv?: NodeJS.ProcessEnv): Promise<string[]> {
  const out = await gitText(["ls-remote", "--tags", "--refs", "--", url], { env: gitEnv });
  const tags = out
    .split("\n")
    .map((line) => line.split("\t")[1]?.replace(/^refs\/tags\//, ""))
    .filter((t): t is string => !!t && VERSION_TAG.test(t));
  const version = (t: string) => parseVersion(VERSION_TAG.exec(t)![1]!)!;
  return tags.sort((a, b) => compareVersions(version(a), version(b)) || (a < b ? -1 : 1));
}

export async function reconcile(targets: ReconcileTargets, deps: ReconcileDeps): Promise<ReconcileReport> {
  const log = deps.log ?? (() => {});
  const report: ReconcileReport = { done: [], unchanged: [], failed: [] };
  const fail = (what: string, err: unknown) => {
    const message = `${what}: ${redact(err instanceof Error ? err.message : String(err))}`;
    report.failed.push(message);
    log(`failed: ${message}`);
  };

  const serialize = deps.serialize ?? (<T>(_key: string, fn: () => Promise<T>) => fn());
  const juliaKey = (url: string) => `julia:${deps.storeKey ?? ""}:${normalizeUrl(url)}`;
  const registries = new Map<string, { url: string; branch?: string }>();
  for (const r of targets.registry) registries.set(normalizeUrl(r.url), r);

  for (const p of targets.julia_package) {
    if (!registries.has(normalizeUrl(p.registry))) registries.set(normalizeUrl(p.registry), { url: p.registry });
    if (p.register === "pull-request") {
      // Registrations there go through review; reconcile never commits to the registry for them.
      report.unchanged.push(`${redact(p.url)}: registered by pull request; reconcile only publishes its registry`);
      continue;
    }
    let tags: string[];
    try {
      tags = await versionTags(p.url, deps.gitEnv);
    } catch (err) {
      fail(`listing tags of ${p.url}`, err);
      continue;
    }
    for (const tag of tags) {
      const what = `${redact(p.url)} ${tag}`;
      try {
        const picked = subdirForTag(p, tag);
        if ("skip" in picked) {
          report.unchanged.push(`${what}: ${picked.skip}`);
          continue;
        }
        const r = await serialize(juliaKey(p.registry), () => deps.publishers.register({ registry: p.registry, package: p.url, ref: tag, subdir: picked.subdir, push: true, gitEnv: deps.gitEnv, log }));
        if (r.plan.kind === "Already registered") report.unchanged.push(`${what}: ${r.plan.name} v${r.plan.version} already registered`);
        else report.done.push(`${what}: registered ${r.plan.name} v${r.plan.version}`);
      } catch (err) {
        // A tag that is not this package's release (another package's in a monorepo, a typo) is
        // not something reconcile can fix; the push event already reported it.
        if (err instanceof RegistrationError && /does not match/.test(err.message)) report.unchanged.push(`${what}: not a release of this package (${err.message})`);
        else fail(what, err);
      }
    }
  }

  // Reconcile is the safety net: a full scan, so it also retries versions that failed before
  // and rebuilds what the store lost, which an incremental publish does not look at.
  for (const r of registries.values()) {
    try {
      const rep = await serialize(juliaKey(r.url), () => deps.publishers.julia({ registry: r.url, branch: r.branch, store: deps.store, gitEnv: deps.gitEnv, log, full: true }));
      const line = `registry ${rep.registry.name} at ${rep.registry.commit.slice(0, 12)}: ${rep.built.length} objects written, ${rep.skipped} versions already stored`;
      (rep.built.length ? report.done : report.unchanged).push(line);
      for (const f of rep.failed) report.failed.push(`registry ${rep.registry.name}: ${f.package}${f.version ? ` v${f.version}` : ""}: ${f.reason}`);
    } catch (err) {
      fail(`registry ${redact(r.url)}`, err);
    }
  }

  for (const h of targets.hex_package) {
    if (!deps.hexKeyPem) {
      fail(`hex package ${redact(h.url)}`, new Error("no Hex signing key (PKGPUB_HEX_KEY / PKGPUB_HEX_KEY_FILE)"));
      continue;
    }
    let tags: string[];
    try {
      tags = await versionTags(h.url, deps.gitEnv);
    } catch (err) {
      fail(`listing tags of ${h.url}`, err);
      continue;
    }
    for (const tag of tags) {
      const what = `${redact(h.url)} ${tag}`;
      try {
        const key = deps.hexKeyPem;
        const out = await serialize(`hex:${deps.storeKey ?? ""}:${h.repo}`, () => deps.publishers.hexSource({ store: deps.store, repo: h.repo, source: h.url, ref: tag, ...(h.build_tool ? { buildTool: h.build_tool } : {}), privateKeyPem: key, gitEnv: deps.gitEnv, log }));
        (out.tarball === "unchanged" ? report.unchanged : report.done).push(`${what}: ${h.repo}/${out.name} ${out.version} ${out.tarball === "unchanged" ? "already published" : "published"}`);
      } catch (err) {
        fail(what, err);
      }
    }
  }
  return report;
}
