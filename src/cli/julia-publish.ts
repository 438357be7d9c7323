import { artifactNetworkFromEnv } from "../publish/artifact-network.js";
import { publishJuliaRegistry } from "../publish/julia-publish.js";
import { loadHttpAuth } from "../net/http-auth.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, requireFlag, UsageError, type Command } from "./command.js";

const help = `pkgpub julia publish: publish a Julia registry, its packages and artifacts to a store

Usage:
  pkgpub julia publish --registry <path|git-url> [--branch <name>] [--commit <rev>]
                       [--store <store>] [--force] [--full] [--concurrency <n>] [--cache-dir <dir>]

Reads the registry at the branch head (default: the repository's default branch), builds every
version's package tarball from git objects (with its artifacts), the registry tarball, and
points /registries at it last. What the store already holds is neither rebuilt nor uploaded.
/registries.conservative (the flavour Pkg asks for outside CI) moves too, but only when every
version of the commit is stored: a version that failed holds it at the last complete commit.

When the store already publishes an older tree of this registry and the repository has that
tree, only the packages whose files changed between the two trees are looked at: the cost
follows the change, not the size of the registry. Otherwise (a first publish, a tree the
repository does not have, another registry) or with --full, every package is looked at.
pkgpub verify finds what an incremental publish cannot see (objects lost from the store,
versions that failed before and whose package did not change since); --full rebuilds them.

Options:
  --registry <r>     the registry repository: a local path, file://, or an http(s)/ssh git URL
  --branch <name>    branch to publish (default: the default branch)
  --commit <rev>     publish this commit instead of a branch head
  --store <store>    a directory, file://… or s3://bucket[/prefix] (default: $PKGPUB_STORE or ./data)
  --force            replace a published registry tree that is not in this commit's history
  --full             look at every package, not only those changed since the published tree
  --concurrency <n>  package repositories processed at once (default 2)
  --cache-dir <dir>  where clones of remote repositories are kept
                     (default: $PKGPUB_GIT_CACHE_DIR or ~/.cache/pkgpub/git)
  --http-auth-file <f>  per-host credentials for artifact downloads (TOML [[http_auth]];
                     default $PKGPUB_HTTP_AUTH_FILE); PKGPUB_HTTP_AUTH=host=bearer:TOKEN;…
                     adds more (see docs/mirror.md). Secrets are never printed.

Artifact downloads: a redirect may stay on its host or go to GitHub's release-asset hosts;
PKGPUB_ARTIFACT_REDIRECT_HOSTS lists more. The CLI may reach local and private addresses
(PKGPUB_ARTIFACT_PUBLIC_ONLY=1 refuses them, as the App and the Action do by default);
PKGPUB_ARTIFACT_ALLOW_HOSTS names hosts allowed whatever they resolve to (docs/configuration.md).

Exit status: 0 when everything was published; 1 when any version failed (each is named with
its package, version and reason; the others are still published) or the registry is unusable.
`;

const command: Command = {
  path: ["julia", "publish"],
  summary: "publish a git-hosted Julia registry, its packages and artifacts to a store",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, {
      registry: { type: "string" },
      branch: { type: "string" },
      commit: { type: "string" },
      store: { type: "string" },
      force: { type: "boolean" },
      full: { type: "boolean" },
      concurrency: { type: "string" },
      "cache-dir": { type: "string" },
      "http-auth-file": { type: "string" },
    });
    const registry = requireFlag(values.registry, "--registry");
    if (values.branch && values.commit) throw new UsageError("give --branch or --commit, not both");
    const concurrency = values.concurrency === undefined ? 2 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError("--concurrency must be a whole number from 1 to 64");
    const auth = await loadHttpAuth(ctx.env, ctx.cwd, values["http-auth-file"]);
    const store = await openStore(values.store, ctx.env);
    const say = (line: string) => ctx.stdout.write(`${line}\n`);
    const report = await publishJuliaRegistry({
      registry,
      branch: values.branch,
      ref: values.commit,
      store,
      force: values.force ?? false,
      full: values.full ?? false,
      concurrency,
      cacheDir: values["cache-dir"],
      gitEnv: ctx.env,
      // Local development serves artifacts from localhost: the CLI allows local addresses
      // unless PKGPUB_ARTIFACT_PUBLIC_ONLY=1 (the App and the Action refuse them by default).
      limits: { ...(auth.size > 0 ? { auth } : {}), network: artifactNetworkFromEnv(ctx.env, false) },
      log: say,
    });
    const r = report.registry;
    say(
      `published ${r.name} ${r.uuid} tree ${r.tree} (commit ${r.commit.slice(0, 12)}) to ${store.description}: ` +
        `${report.built.length} objects written, ${report.skipped} versions already present, ${report.failed.length} failed; ` +
        `registries ${r.pointer === "moved" ? "updated" : r.pointer === "unchanged" ? "unchanged" : "left at a newer commit"}, ` +
        `registries.conservative ${r.conservative === "moved" ? "updated" : r.conservative === "unchanged" ? "unchanged" : r.conservative === "held-back" ? "held back (not every version is stored)" : "left at a newer commit"}`,
    );
    for (const f of report.failed) {
      ctx.stderr.write(`failed: ${f.package}${f.version ? ` v${f.version}` : ""}: ${f.reason}\n`);
    }
    return report.failed.length > 0 ? 1 : 0;
  },
};
export default command;
