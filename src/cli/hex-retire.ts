import { RETIREMENT_REASONS, type RetirementReason } from "../hex/messages.js";
import { retireHex } from "../publish/hex-publish.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, requireFlag, UsageError, type Command } from "./command.js";
import { loadPrivateKey } from "./hex-key-flag.js";

const common = `  --repo <name>            the repository (repos/<name>/ in the store)
  --private-key <spec>     the repository's RSA private key: a PEM file or env:VAR
  --store <store>          a directory, file://… or s3://bucket[/prefix] (default: PKGPUB_STORE or ./data)
  -h, --help               show this help`;

export const retire: Command = {
  path: ["hex", "retire"],
  summary: "mark a Hex release as retired",
  help: `pkgpub hex retire: mark a published release as retired (clients warn when resolving it)

Usage:
  pkgpub hex retire --repo <name> --private-key <pem-file|env:VAR> <package> <version> --reason <reason> [--message <text>]

Options:
  --reason <reason>        one of: ${RETIREMENT_REASONS.join(", ")}
  --message <text>         a short explanation shown by mix and rebar3
${common}

Re-signs repos/<name>/packages/<package>, then versions and names. The tarball stays available.
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, { repo: { type: "string" }, "private-key": { type: "string" }, store: { type: "string" }, reason: { type: "string" }, message: { type: "string" } }, true);
    const repo = requireFlag(values.repo, "--repo");
    const reason = requireFlag(values.reason, "--reason");
    if (!(RETIREMENT_REASONS as readonly string[]).includes(reason)) throw new UsageError(`--reason must be one of ${RETIREMENT_REASONS.join(", ")} (got ${JSON.stringify(reason)})`);
    const [name, version] = releaseArgs(positionals);
    const privateKey = await loadPrivateKey(values["private-key"], ctx.env, ctx.cwd);
    const store = await openStore(values.store, ctx.env);
    const retirement = { reason: reason as RetirementReason, ...(values.message !== undefined ? { message: values.message } : {}) };
    await retireHex({ store, repo, privateKey, name, version, retirement, log: (l) => ctx.stderr.write(`${l}\n`) });
    ctx.stdout.write(`${name} ${version}: retired (${reason}) in repository ${repo}\n`);
    return 0;
  },
};

export const unretire: Command = {
  path: ["hex", "unretire"],
  summary: "clear a Hex release's retirement",
  help: `pkgpub hex unretire: clear the retirement of a published release

Usage:
  pkgpub hex unretire --repo <name> --private-key <pem-file|env:VAR> <package> <version>

Options:
${common}
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, { repo: { type: "string" }, "private-key": { type: "string" }, store: { type: "string" } }, true);
    const repo = requireFlag(values.repo, "--repo");
    const [name, version] = releaseArgs(positionals);
    const privateKey = await loadPrivateKey(values["private-key"], ctx.env, ctx.cwd);
    const store = await openStore(values.store, ctx.env);
    await retireHex({ store, repo, privateKey, name, version, retirement: undefined, log: (l) => ctx.stderr.write(`${l}\n`) });
    ctx.stdout.write(`${name} ${version}: no longer retired in repository ${repo}\n`);
    return 0;
  },
};

function releaseArgs(positionals: string[]): [string, string] {
  if (positionals.length !== 2) throw new UsageError("expected two arguments: <package> <version>");
  return [positionals[0]!, positionals[1]!];
}
