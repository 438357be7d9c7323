// The App's scheduled reconcile: every installation's configured repositories, with the
// installation's token, serialized with webhook jobs through the same queue keys.

import type { Probot } from "probot";
import { tokenGitEnv } from "../publish/git-token.js";
import type { AppDeps } from "./app.js";
import { CONFIG_FILE, sameOrigin } from "./app.js";
import { parseRepoConfig } from "./config.js";
import type { KeyedQueue } from "./queue.js";
import { reconcile, type ReconcileReport, type ReconcileTargets } from "./reconcile.js";

interface Repo {
  name: string;
  full_name: string;
  clone_url: string;
  owner: { login: string };
}

export async function reconcileInstallations(probot: Probot, deps: AppDeps, queue: KeyedQueue, log: (line: string) => void): Promise<ReconcileReport> {
  const total: ReconcileReport = { done: [], unchanged: [], failed: [] };
  const appOctokit = await probot.auth();
  const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations);
  for (const installation of installations) {
    const octokit = await probot.auth(installation.id);
    const repos = (await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation)) as unknown as Repo[];
    const byStore = new Map<string, ReconcileTargets>();
    for (const repo of repos) {
      if (repo.name === ".github") continue;
      try {
        const { config, files } = await octokit.config.get({ owner: repo.owner.login, repo: repo.name, path: `.github/${CONFIG_FILE}` });
        if (!files.some((f) => f.config !== null)) continue;
        const c = parseRepoConfig(config, `${repo.full_name}/.github/${CONFIG_FILE}`);
        const key = c.store ?? "";
        if (!byStore.has(key)) byStore.set(key, { registry: [], julia_package: [], hex_package: [] });
        const t = byStore.get(key)!;
        if (c.kind === "julia-registry") t.registry.push({ url: repo.clone_url, branch: c.branch });
        if (c.kind === "julia-package" && !sameOrigin(c.registry, repo.clone_url)) throw new Error(`registry ${c.registry} is not on ${new URL(repo.clone_url).origin}`);
        if (c.kind === "julia-package") t.julia_package.push({ url: repo.clone_url, registry: c.registry, subdir: c.subdir, subdirs: c.subdirs, register: c.register });
        if (c.kind === "hex-package") t.hex_package.push({ url: repo.clone_url, repo: c.hex_repo });
      } catch (err) {
        total.failed.push(`${repo.full_name}: ${(err as Error).message}`);
      }
    }
    if (byStore.size === 0) continue;
    const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
    const origin = new URL(repos[0]!.clone_url).origin;
    for (const [storeKey, targets] of byStore) {
      try {
        const report = await reconcile(targets, {
          publishers: deps.publishers,
          store: await deps.openStore(storeKey || undefined),
          gitEnv: tokenGitEnv(token, origin, deps.env ?? process.env),
          hexKeyPem: deps.hexKeyPem,
          log,
          serialize: (key, fn) => queue.run(key, fn),
          storeKey,
        });
        total.done.push(...report.done);
        total.unchanged.push(...report.unchanged);
        total.failed.push(...report.failed);
      } catch (err) {
        total.failed.push(`store ${storeKey || "(default)"}: ${(err as Error).message}`);
      }
    }
  }
  log(`reconcile: ${total.done.length} done, ${total.unchanged.length} unchanged, ${total.failed.length} failed`);
  for (const f of total.failed) log(`reconcile failed: ${f}`);
  return total;
}
