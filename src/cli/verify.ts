import { existsSync } from "node:fs";
import { verifyHexStore } from "../publish/hex-verify.js";
import { verifyJuliaStore } from "../publish/julia-verify.js";
import { REGISTRIES_KEY } from "../publish/registries-pointer.js";
import { FsStore } from "../store/fs-store.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, type Command } from "./command.js";

const help = `pkgpub verify: check every object the store's indexes name

Usage:
  pkgpub verify [--store <store>]

Julia: for every registry in /registries, the registry tarball, every version's package tarball
and every artifact those packages declare must be present, readable, and have the tree hash Pkg
checks.
Hex: for every repository under repos/, names, versions and every packages/<name> must verify
with the repository's public_key and agree with each other, and every release's tarball must be
present, well formed, and have the checksum its signed package names.

Lists each problem; exits 1 if there is any, or if the store does not exist or holds nothing
to verify; 0 otherwise.

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
    // A wrong --store must not look like a clean one.
    if (store instanceof FsStore && !existsSync(store.root)) {
      ctx.stderr.write(`pkgpub verify: ${store.description} does not exist (is --store or PKGPUB_STORE right?)\n`);
      return 1;
    }
    const log = (line: string) => ctx.stdout.write(`${line}\n`);
    const hasJulia = (await store.head(REGISTRIES_KEY)) !== null;
    const julia = await verifyJuliaStore(store, log);
    const hex = await verifyHexStore(store, log);
    if (!hasJulia && hex.repositories.length === 0) {
      ctx.stderr.write(`pkgpub verify: ${store.description} holds nothing to verify: no ${REGISTRIES_KEY} and no repos/ (is --store or PKGPUB_STORE right?)\n`);
      return 1;
    }
    const problems = [...julia.problems, ...hex.problems];
    for (const p of problems) ctx.stderr.write(`problem: ${p}\n`);
    ctx.stdout.write(`${julia.checked + hex.checked} objects checked in ${store.description}: ${problems.length === 0 ? "all good" : `${problems.length} problems`}\n`);
    return problems.length === 0 ? 0 : 1;
  },
};
export default command;
