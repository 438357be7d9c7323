// The Probot app: a push arrives, is matched to the repository's config, and its job is queued
// (serialized per registry / Hex repository); the outcome lands as a check run on the commit.

import type { ApplicationFunction, Context } from "probot";
import { redactSecrets } from "../git/redact.js";
import { tokenGitEnv } from "../publish/git-token.js";
import { parseRepoConfig } from "./config.js";
import { planPush, queueKey, type PushInfo } from "./jobs.js";
import { KeyedQueue, RecentSet } from "./queue.js";
import { runJob, type JobDeps, type Outcome } from "./run-job.js";

export const CHECK_NAME = "pkgpub";
export const CONFIG_FILE = "pkgpub.yml";

export type AppDeps = Omit<JobDeps, "gitEnv" | "openPullRequest" | "log"> & {
  /** Base environment for git (PATH, HOME, PKGPUB_GIT_CACHE_DIR); the token is added per job. */
  env?: NodeJS.ProcessEnv;
};

export interface PkgpubApp {
  appFn: ApplicationFunction;
  queue: KeyedQueue;
  /** Outcomes by delivery id, for tests and the reconcile summary. */
  outcomes: Map<string, Outcome | { skipped: string }>;
}

type PushContext = Context<"push">;

function pushInfo(payload: PushContext["payload"]): PushInfo {
  return {
    ref: payload.ref,
    after: payload.after,
    commit: payload.head_commit?.id ?? payload.after,
    deleted: payload.deleted,
    cloneUrl: payload.repository.clone_url,
    defaultBranch: payload.repository.default_branch ?? "main",
    fullName: payload.repository.full_name,
  };
}

/** Is url an http(s) URL on the same origin as reference (the App's GitHub)? */
export function sameOrigin(url: string, reference: string): boolean {
  try {
    return new URL(url).origin === new URL(reference).origin && /^https?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
}

export function createPkgpubApp(deps: AppDeps): PkgpubApp {
  const queue = new KeyedQueue();
  const deliveries = new RecentSet();
  const pushes = new RecentSet();
  const outcomes = new Map<string, Outcome | { skipped: string }>();

  async function handlePush(context: PushContext): Promise<void> {
    const push = pushInfo(context.payload);
    const { owner, repo } = context.repo();
    const record = (value: Outcome | { skipped: string }) => outcomes.set(context.id, value);
    let raw: unknown;
    let unreadable: string | undefined;
    try {
      raw = await context.config(CONFIG_FILE);
    } catch (err) {
      // Bad YAML is the repository's to fix (reported below); anything else (the API failing)
      // propagates, so that a redelivery of this event is tried again.
      const message = (err as Error).message;
      if (!/could not be parsed|is not an object/i.test(message)) throw err;
      unreadable = message.replace(/^\[@probot\/octokit-plugin-config\] /, "");
    }
    if (raw === null && unreadable === undefined) {
      record({ skipped: `no .github/${CONFIG_FILE}` });
      return;
    }
    const check = async (outcome: Outcome, id?: number) => {
      const output = { title: outcome.title, summary: outcome.summary.slice(0, 65_000) };
      if (id === undefined) {
        await context.octokit.rest.checks.create({ owner, repo, name: CHECK_NAME, head_sha: push.commit, status: "completed", conclusion: outcome.conclusion, output });
      } else {
        await context.octokit.rest.checks.update({ owner, repo, check_run_id: id, status: "completed", conclusion: outcome.conclusion, output });
      }
    };
    let config;
    try {
      if (unreadable !== undefined) throw new Error(unreadable);
      config = parseRepoConfig(raw, `${push.fullName}/.github/${CONFIG_FILE}`);
    } catch (err) {
      const outcome: Outcome = { conclusion: "failure", title: `Invalid .github/${CONFIG_FILE}`, summary: (err as Error).message, log: [] };
      record(outcome);
      if (!push.deleted) await check(outcome);
      return;
    }
    if (config.kind === "julia-package" && !sameOrigin(config.registry, push.cloneUrl)) {
      // The App only reaches its own GitHub with the installation token; a registry elsewhere
      // (or a path on the App's host) is not something a repository may point it at.
      const outcome: Outcome = { conclusion: "failure", title: `Invalid .github/${CONFIG_FILE}`, summary: `registry ${config.registry} is not on ${new URL(push.cloneUrl).origin}`, log: [] };
      record(outcome);
      if (!push.deleted) await check(outcome);
      return;
    }
    const plan = planPush(push, config);
    if ("skip" in plan) {
      context.log.info(`nothing to do: ${plan.skip}`);
      record({ skipped: plan.skip });
      return;
    }
    const job = plan.job;
    const pushKey = `${push.fullName}\u0000${push.ref}\u0000${push.after}`;
    if (!pushes.add(pushKey)) {
      record({ skipped: "this push was already handled" });
      return;
    }
    const created = await context.octokit.rest.checks.create({ owner, repo, name: CHECK_NAME, head_sha: push.commit, status: "queued", output: { title: "Queued", summary: `Waiting for earlier work on ${job.kind === "hex-package" ? `Hex repository ${job.hexRepo}` : "the registry"}.` } });
    const outcome = await queue.run(queueKey(job), async (): Promise<Outcome> => {
      try {
        await context.octokit.rest.checks.update({ owner, repo, check_run_id: created.data.id, status: "in_progress" });
        // A fresh installation token per job: queued jobs may start long after the delivery.
        const { token } = (await context.octokit.auth({ type: "installation" })) as { token: string };
        const origin = new URL(push.cloneUrl).origin;
        return await runJob(job, {
          ...deps,
          gitEnv: tokenGitEnv(token, origin, deps.env ?? process.env),
          log: (line) => context.log.info(line),
          openPullRequest: async (pr) => (await context.octokit.rest.pulls.create(pr)).data.html_url,
        });
      } catch (err) {
        // Whatever fails here, the check run must not stay "in progress".
        return { conclusion: "failure", title: "pkgpub failed", summary: redactSecrets((err as Error).message), log: [] };
      }
    });
    if (outcome.conclusion === "failure") pushes.delete(pushKey);
    record(outcome);
    await check(outcome, created.data.id);
  }

  const appFn: ApplicationFunction = (app) => {
    app.on("push", async (context) => {
      if (!deliveries.add(context.id)) {
        context.log.info(`delivery ${context.id} already received; ignoring the redelivery`);
        return;
      }
      // Answer the webhook now; the work continues in the queue.
      queue.track(
        handlePush(context).catch((err: unknown) => {
          deliveries.delete(context.id);
          context.log.error(`push ${context.payload.ref} of ${context.payload.repository.full_name}: ${(err as Error).message}`);
        }),
      );
    });
  };
  return { appFn, queue, outcomes };
}
