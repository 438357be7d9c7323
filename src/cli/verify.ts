import { verifyJuliaStore } from "../publish/julia-verify.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, type Command } from "./command.js";

const help = `pkgpub verify: check every object the store's indexes name

Usage:
  pkgpub verify [--store <store>]

For every registry in /registries and /registries.conservative: the registry tarball, every version's package tarball and
every artifact those packages declare must be present, readable, and have the tree hash Pkg
checks. Lists each problem; exits 1 if there is any, 0 otherwise.

Options:
  --store <store>  a directory, file://… or s3://bucket[/prefix] (default: $PKGPUB_STORE or ./data)
`;

const command: Command = {
  path: ["verify"],
  summary: "check every object the store's indexes name",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, { store: { type: "string" } });
    const store = await openStore(values.store, ctx.env);
    const report = await verifyJuliaStore(store, (line) => ctx.stdout.write(`${line}\n`));
    for (const p of report.problems) ctx.stderr.write(`problem: ${p}\n`);
    ctx.stdout.write(`${report.checked} objects checked in ${store.description}: ${report.problems.length === 0 ? "all good" : `${report.problems.length} problems`}\n`);
    return report.problems.length === 0 ? 0 : 1;
  },
};
export default command;
