// Runs one job through the publish functions and says what happened, as a check run would show it.

import { redactSecrets as redact } from "../git/redact.js";
import { codeSpan } from "./check-text.js";
import { gitText } from "../git/run-git.js";
import type { Store } from "../store/store.js";
import type { Job } from "./jobs.js";
import { ownerRepo } from "./jobs.js";
import type { HexPublishOutcome, Publishers } from "./publishers.js";

export interface Outcome {
  conclusion: "success" | "failure" | "neutral";
  title: string;
  summary: string;
  /** The log lines of the run (already free of secrets). */
  log: string[];
}

export interface JobDeps {
  publishers: Publishers;
  openStore: (spec: string | undefined) => Promise<Store>;
  /** git environment that authenticates to the Git host (token in an http.<origin>.extraHeader). */
  gitEnv: NodeJS.ProcessEnv;
  /** PEM key that signs Hex repositories (from the App's environment only). */
  hexKeyPem?: string;
  /** Public URL of the pkgpub server in front of the store, for install instructions. */
  serverUrl?: string;
  /** Opens a pull request in the registry repository (App with pull-request registration). */
  openPullRequest?: (args: { owner: string; repo: string; head: string; base: string; title: string; body: string }) => Promise<string>;
  log?: (line: string) => void;
}

const server = (deps: JobDeps) => deps.serverUrl ?? "https://<your pkgpub server>";

function juliaInstall(deps: JobDeps, registryUrl: string, pkg?: string): string {
  return [
    "Install with:",
    "```",
    `JULIA_PKG_SERVER=${server(deps)} julia`,
    `pkg> registry add ${registryUrl}`,
    ...(pkg ? [`pkg> add ${pkg}`] : []),
    "```",
  ].join("\n");
}

function hexInstall(deps: JobDeps, repo: string, name: string, version: string): string {
  const major = version.split(".").slice(0, 2).join(".");
  return [
    "Install with:",
    "```",
    `mix hex.repo add ${repo} ${server(deps)}/repos/${repo} --public-key ${repo}_public_key.pem`,
    `# mix.exs: {:${name}, "~> ${major}", repo: "${repo}"}`,
    "```",
  ].join("\n");
}

const MAX_LISTED = 50;

function listKeys(keys: string[]): string {
  if (keys.length === 0) return "";
  const shown = keys.slice(0, MAX_LISTED).map((k) => `  - \`${k}\``);
  if (keys.length > MAX_LISTED) shown.push(`  - … and ${keys.length - MAX_LISTED} more`);
  return `\n${shown.join("\n")}`;
}

async function publishRegistry(job: { registry: string; branch?: string; commit: string }, store: Store, deps: JobDeps, log: (l: string) => void) {
  const report = await deps.publishers.julia({ registry: job.registry, branch: job.branch, ref: job.commit, store, gitEnv: deps.gitEnv, log });
  const lines = [
    `Registry **${report.registry.name}** (${report.registry.uuid}) at ${report.registry.commit.slice(0, 12)}, tree ${report.registry.tree}, into ${store.description}.`,
    "",
    `- objects written: ${report.built.length}${listKeys(report.built)}`,
    `- versions already in the store: ${report.skipped}`,
    `- registries pointer: ${report.registry.pointer}`,
    `- registries.conservative pointer: ${report.registry.conservative}`,
  ];
  if (report.failed.length) {
    lines.push(`- **failed**: ${report.failed.length}`, ...report.failed.map((f) => `  - ${codeSpan(f.package)}${f.version ? ` v${codeSpan(f.version)}` : ""}: ${codeSpan(redact(f.reason))}`));
  }
  return { report, lines };
}

export async function runJob(job: Job, deps: JobDeps): Promise<Outcome> {
  const logLines: string[] = [];
  const log = (line: string) => {
    const clean = redact(line);
    logLines.push(clean);
    deps.log?.(clean);
  };
  try {
    const store = await deps.openStore(job.store);
    switch (job.kind) {
      case "julia-registry": {
        const { report, lines } = await publishRegistry(job, store, deps, log);
        const failed = report.failed.length > 0;
        return {
          conclusion: failed ? "failure" : "success",
          title: failed ? `Published ${report.registry.name} with ${report.failed.length} failed version(s)` : `Published ${report.registry.name} at ${report.registry.commit.slice(0, 12)}`,
          summary: [...lines, "", juliaInstall(deps, job.registry)].join("\n"),
          log: logLines,
        };
      }
      case "julia-package": {
        const pr = job.mode === "pull-request";
        const reg = await deps.publishers.register({
          registry: job.registry,
          package: job.package,
          ref: job.tag,
          subdir: job.subdir,
          push: true,
          pushBranch: pr ? `pkgpub/${job.tag}-${job.repository.replace(/[^A-Za-z0-9_.-]+/g, "-")}` : undefined,
          gitEnv: deps.gitEnv,
          log,
        });
        const p = reg.plan;
        const what = `${p.name} v${p.version}`;
        if (pr && reg.pushed) {
          const target = ownerRepo(job.registry);
          if (!target || !deps.openPullRequest) throw new Error(`cannot open a pull request in ${redact(job.registry)}`);
          const base = await defaultBranchOf(job.registry, deps);
          const url = await deps.openPullRequest({ ...target, head: reg.branch, base, title: `${p.kind}: ${what}`, body: `${p.commitMessage}\nRegistered by pkgpub from ${job.repository} ${job.tag}.` });
          return { conclusion: "success", title: `Opened a registry pull request for ${what}`, summary: `${p.kind}: ${what} (tree ${p.treeHash}).\n\nPull request: ${url}\n\nThe packages are published when it is merged.`, log: logLines };
        }
        const registered = p.kind === "Already registered" ? `${what} was already registered (tree ${p.treeHash}).` : `${p.kind}: ${what} registered in ${redact(job.registry)} as ${reg.registryCommit?.slice(0, 12)} (tree ${p.treeHash}).`;
        const { report, lines } = await publishRegistry({ registry: job.registry, branch: reg.branch, commit: reg.registryCommit ?? reg.branch }, store, deps, log);
        const failed = report.failed.length > 0;
        return {
          conclusion: failed ? "failure" : "success",
          title: failed ? `Registered ${what}; publishing had failures` : `Registered and published ${what}`,
          summary: [registered, "", ...lines, "", juliaInstall(deps, job.registry, `${p.name}@${p.version}`)].join("\n"),
          log: logLines,
        };
      }
      case "hex-package": {
        if (!deps.hexKeyPem) throw new Error("no Hex signing key: set PKGPUB_HEX_KEY (or PKGPUB_HEX_KEY_FILE) in the publisher's environment");
        const out = await deps.publishers.hexSource({ store, repo: job.hexRepo, source: job.source, ref: job.tag, ...(job.buildTool ? { buildTool: job.buildTool } : {}), privateKeyPem: deps.hexKeyPem, gitEnv: deps.gitEnv, log });
        return hexOutcome(job.hexRepo, out, `${job.tag}`, store, deps, logLines);
      }
    }
  } catch (err) {
    const message = redact(err instanceof Error ? err.message : String(err));
    log(`error: ${message}`);
    const tail = logLines.slice(-21, -1);
    const details = tail.length ? `\n\n<details><summary>last log lines</summary>\n\n\`\`\`\n${tail.join("\n")}\n\`\`\`\n</details>` : "";
    return { conclusion: "failure", title: "pkgpub failed", summary: `${message}${details}`, log: logLines };
  }
}

export function hexOutcome(repo: string, out: HexPublishOutcome, from: string, store: Store, deps: JobDeps, log: string[]): Outcome {
  const what = `${out.name} ${out.version}`;
  const fresh = out.tarball !== "unchanged";
  return {
    conclusion: "success",
    title: fresh ? `Published ${repo}/${what}` : `${repo}/${what} was already published`,
    summary: [
      `Hex repository **${repo}** in ${store.description}: ${what} from ${from}.`,
      "",
      `- tarball \`${out.tarballKey}\`: ${out.tarball}`,
      `- indexes: \`repos/${repo}/packages/${out.name}\`, \`repos/${repo}/names\`, \`repos/${repo}/versions\``,
      "",
      hexInstall(deps, repo, out.name, out.version),
    ].join("\n"),
    log,
  };
}

async function defaultBranchOf(registry: string, deps: JobDeps): Promise<string> {
  const out = await gitText(["ls-remote", "--symref", "--", registry, "HEAD"], { env: deps.gitEnv });
  return /ref: refs\/heads\/(\S+)\s+HEAD/.exec(out)?.[1] ?? "main";
}
