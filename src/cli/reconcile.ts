import path from "node:path";
import { defaultPublishers } from "../github/default-publishers.js";
import { hexKeyFromEnv } from "../github/environment.js";
import { reconcile, type ReconcileTargets } from "../github/reconcile.js";
import { loadTargets } from "../github/reconcile-targets.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, UsageError, type Command } from "./command.js";

const help = `pkgpub reconcile: publish whatever the store lacks for the configured repositories

Usage:
  pkgpub reconcile [--store <spec>] --config <file.toml>
  pkgpub reconcile [--store <spec>] --registry <url> [--registry <url> ...]

For the events webhooks never deliver (more than three tags pushed at once, tags made with
GITHUB_TOKEN): registers every version tag of each Julia package repository that its registry
lacks, publishes each registry (every version the store lacks, then the registries pointer), and
publishes every version tag of each Hex package repository. Running it again writes nothing.

The config file lists the repositories:

  [[registry]]
  url = "https://github.com/acme/AcmeRegistry.git"
  branch = "main"                  # optional

  [[julia_package]]
  url = "https://github.com/acme/Foo.jl.git"
  registry = "https://github.com/acme/AcmeRegistry.git"
  subdir = "julia/Foo"             # optional

  [[hex_package]]
  url = "https://github.com/acme/widget.git"
  repo = "acme"
  build_tool = "rebar3"            # optional: mix or rebar3, for a repository with both

Flags:
  --store <spec>      directory, file://… or s3://bucket[/prefix] (default: PKGPUB_STORE, ./data)
  --config <file>     the repositories, as above
  --registry <url>    a registry to publish (repeatable; added to the config file's)

Environment: PKGPUB_HEX_KEY or PKGPUB_HEX_KEY_FILE (signs Hex repositories); git uses your own
credentials for private repositories. Exit status 1 when anything failed.
`;

const command: Command = {
  path: ["reconcile"],
  summary: "publish whatever the store lacks for the configured registries and repositories",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, { store: { type: "string" }, config: { type: "string" }, registry: { type: "string", multiple: true } });
    const targets: ReconcileTargets = values.config ? await loadTargets(path.resolve(ctx.cwd, values.config)) : { registry: [], julia_package: [], hex_package: [] };
    for (const url of values.registry ?? []) targets.registry.push({ url });
    if (targets.registry.length + targets.julia_package.length + targets.hex_package.length === 0) throw new UsageError("nothing to reconcile: pass --config <file> or --registry <url>");
    const store = await openStore(values.store ?? ctx.env.PKGPUB_STORE, ctx.env);
    const report = await reconcile(targets, {
      publishers: defaultPublishers,
      store,
      gitEnv: ctx.env,
      hexKeyPem: await hexKeyFromEnv(ctx.env),
      log: (line) => ctx.stderr.write(`${line}\n`),
    });
    for (const line of report.done) ctx.stdout.write(`done: ${line}\n`);
    for (const line of report.unchanged) ctx.stdout.write(`unchanged: ${line}\n`);
    for (const line of report.failed) ctx.stdout.write(`FAILED: ${line}\n`);
    ctx.stdout.write(`${report.done.length} done, ${report.unchanged.length} unchanged, ${report.failed.length} failed (store ${store.description})\n`);
    return report.failed.length ? 1 : 0;
  },
};
export default command;
