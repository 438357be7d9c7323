// The Action: the workflow's event and checkout become the same jobs the App runs.

import { existsSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import path from "node:path";
import { runGit as git, gitText } from "../git/run-git.js";
import { tokenGitEnv } from "../publish/git-token.js";
import { openStore } from "../store/open-store.js";
import type { ActionInputs } from "./action-inputs.js";
import { mirrorOutcome } from "./action-mirror.js";
import type { RepoConfig } from "./config.js";
import { parseRepoConfig } from "./config.js";
import { planPush } from "./jobs.js";
import type { Publishers } from "./publishers.js";
import { reconcile, type ReconcileTargets } from "./reconcile.js";
import { hexOutcome, runJob, type Outcome } from "./run-job.js";

export interface ActionContext {
  inputs: ActionInputs;
  env: NodeJS.ProcessEnv;
  publishers: Publishers;
  log: (line: string) => void;
  /** Loads a reconcile config file (the CLI's TOML format). */
  loadTargets: (file: string) => Promise<ReconcileTargets>;
}

function workspace(env: NodeJS.ProcessEnv): string {
  const ws = env.GITHUB_WORKSPACE;
  if (!ws) throw new Error("GITHUB_WORKSPACE is not set: run this as a step after actions/checkout");
  return ws;
}

/** What the checked-out repository is, from the kind input or its files. */
export function inferKind(inputs: ActionInputs, ws: string): RepoConfig["kind"] {
  if (inputs.kind) return inputs.kind;
  if (inputs.tarball || inputs["hex-repo"]) return "hex-package";
  if (existsSync(path.join(ws, "Registry.toml"))) return "julia-registry";
  const dir = path.join(ws, inputs.subdir ?? "");
  if (existsSync(path.join(dir, "Project.toml")) || existsSync(path.join(dir, "JuliaProject.toml"))) return "julia-package";
  if (existsSync(path.join(ws, "mix.exs")) || existsSync(path.join(ws, "rebar.config"))) return "hex-package";
  throw new Error(`cannot tell what ${ws} is (no Registry.toml, Project.toml, mix.exs or rebar.config): set the kind input`);
}

function configFromInputs(inputs: ActionInputs, kind: RepoConfig["kind"]): RepoConfig {
  const fields =
    kind === "julia-package" ? { registry: inputs.registry, subdir: inputs.subdir } : kind === "hex-package" ? { hex_repo: inputs["hex-repo"], build_tool: inputs["build-tool"] } : {};
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return parseRepoConfig({ kind, ...defined }, "the Action's inputs");
}

function gitEnvFor(ctx: ActionContext): NodeJS.ProcessEnv {
  const server = ctx.env.GITHUB_SERVER_URL ?? "https://github.com";
  return ctx.inputs.token ? tokenGitEnv(ctx.inputs.token, new URL(server).origin, ctx.env) : ctx.env;
}

function repoUrl(env: NodeJS.ProcessEnv): string | undefined {
  return env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL ?? "https://github.com"}/${env.GITHUB_REPOSITORY}.git` : undefined;
}

async function eventOutcome(ctx: ActionContext): Promise<Outcome> {
  const { inputs, env } = ctx;
  const ws = workspace(env);
  const store = () => openStore(inputs.store, env);
  const hexKeyPem = inputs["hex-key"];
  if (inputs.tarball) {
    // The `mix hex.build` / `rebar3 hex build` variant: any event, a tarball the workflow made.
    if (!inputs["hex-repo"]) throw new Error("the tarball input needs hex-repo");
    if (!hexKeyPem) throw new Error("the tarball input needs hex-key (the repository's signing key, from a secret)");
    const s = await store();
    const out = await ctx.publishers.hexTarball({ store: s, repo: inputs["hex-repo"], tarball: path.resolve(ws, inputs.tarball), privateKeyPem: hexKeyPem, log: ctx.log });
    return hexOutcome(inputs["hex-repo"], out, inputs.tarball, s, { publishers: ctx.publishers, openStore: store, gitEnv: env, serverUrl: inputs["server-url"] }, []);
  }
  if (env.GITHUB_EVENT_NAME !== "push") throw new Error(`mode event handles push events, not ${env.GITHUB_EVENT_NAME ?? "(none)"}: use mode: reconcile for schedule / workflow_dispatch`);
  if (!env.GITHUB_EVENT_PATH) throw new Error("GITHUB_EVENT_PATH is not set");
  const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8")) as {
    ref: string; after: string; deleted?: boolean; head_commit?: { id: string } | null;
    repository: { clone_url: string; default_branch?: string; full_name: string };
  };
  const config = configFromInputs(inputs, inferKind(inputs, ws));
  const plan = planPush(
    {
      ref: event.ref,
      after: event.after,
      commit: event.head_commit?.id ?? event.after,
      deleted: !!event.deleted,
      cloneUrl: event.repository.clone_url,
      defaultBranch: event.repository.default_branch ?? "main",
      fullName: event.repository.full_name,
    },
    config,
  );
  if ("skip" in plan) return { conclusion: "neutral", title: "Nothing to publish", summary: plan.skip, log: [] };
  if (plan.job.kind === "julia-registry") await completeHistory(ws, gitEnvFor(ctx), ctx.log);
  // The checkout is the source: no clone of the repository the workflow runs in. The job keeps
  // the repository's URL (what a registry records and install hints show).
  const own = event.repository.clone_url;
  const publishers: Publishers = {
    ...ctx.publishers,
    julia: (o) => ctx.publishers.julia(o.registry === own ? { ...o, registry: ws } : o),
    register: (o) => ctx.publishers.register(o.package === own ? { ...o, package: ws, repo: own } : o),
    hexSource: (o) => ctx.publishers.hexSource(o.source === own ? { ...o, source: ws } : o),
  };
  return runJob(plan.job, { publishers, openStore: store, gitEnv: gitEnvFor(ctx), hexKeyPem, serverUrl: inputs["server-url"], log: ctx.log });
}

/**
 * actions/checkout fetches one commit by default, but the registries pointer only moves forward
 * along the registry's history, which it must be able to see: fetch the rest of it.
 */
async function completeHistory(ws: string, gitEnv: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  if ((await gitText(["rev-parse", "--is-shallow-repository"], { cwd: ws, env: gitEnv })) !== "true") return;
  log("the checkout is shallow: fetching the registry's history");
  await git(["fetch", "-q", "--unshallow", "origin"], { cwd: ws, env: gitEnv });
}

async function reconcileOutcome(ctx: ActionContext): Promise<Outcome> {
  const { inputs, env } = ctx;
  let targets: ReconcileTargets;
  if (inputs.config) {
    targets = await ctx.loadTargets(path.resolve(workspace(env), inputs.config));
  } else {
    const url = repoUrl(env);
    if (!url) throw new Error("GITHUB_REPOSITORY is not set; pass the config input");
    const config = configFromInputs(inputs, inferKind(inputs, workspace(env)));
    targets = { registry: [], julia_package: [], hex_package: [] };
    if (config.kind === "julia-registry") targets.registry.push({ url, branch: config.branch });
    if (config.kind === "julia-package") targets.julia_package.push({ url, registry: config.registry, subdir: config.subdir, register: config.register });
    if (config.kind === "hex-package") targets.hex_package.push({ url, repo: config.hex_repo, ...(config.build_tool ? { build_tool: config.build_tool } : {}) });
  }
  const store = await openStore(inputs.store, env);
  const report = await reconcile(targets, { publishers: ctx.publishers, store, gitEnv: gitEnvFor(ctx), hexKeyPem: inputs["hex-key"], log: ctx.log });
  const lines = [...report.done.map((l) => `- done: ${l}`), ...report.unchanged.map((l) => `- unchanged: ${l}`), ...report.failed.map((l) => `- **failed**: ${l}`)];
  return {
    conclusion: report.failed.length ? "failure" : "success",
    title: `Reconciled: ${report.done.length} done, ${report.unchanged.length} unchanged, ${report.failed.length} failed`,
    summary: lines.join("\n"),
    log: [],
  };
}

/** Runs the step; resolves with the exit code (1 on any failure: no swallowed errors). */
export async function runAction(ctx: ActionContext): Promise<number> {
  let outcome: Outcome;
  try {
    outcome = ctx.inputs.mode === "mirror" ? await mirrorOutcome(ctx.inputs, ctx.env, ctx.log) : ctx.inputs.mode === "reconcile" ? await reconcileOutcome(ctx) : await eventOutcome(ctx);
  } catch (err) {
    outcome = { conclusion: "failure", title: "pkgpub failed", summary: err instanceof Error ? err.message : String(err), log: [] };
  }
  ctx.log(outcome.title);
  ctx.log(outcome.summary);
  if (ctx.env.GITHUB_STEP_SUMMARY) await appendFile(ctx.env.GITHUB_STEP_SUMMARY, `### ${outcome.title}\n\n${outcome.summary}\n`).catch(() => undefined);
  if (ctx.env.GITHUB_OUTPUT) {
    await appendFile(ctx.env.GITHUB_OUTPUT, `conclusion=${outcome.conclusion}\ntitle=${outcome.title.replace(/[\r\n]+/g, " ")}\n`).catch(() => undefined);
  }
  if (outcome.conclusion === "failure") {
    const oneLine = `${outcome.title}: ${outcome.summary.split("\n")[0]}`.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    ctx.log(`::error::${oneLine}`);
    return 1;
  }
  return 0;
}
