import path from "node:path";
import { BUILD_TOOLS, type BuildTool } from "../hex/plan-source.js";
import { openStore } from "../store/open-store.js";
import { publishHex, type HexInput } from "../publish/hex-publish.js";
import { parseFlags, requireFlag, UsageError, type Command } from "./command.js";
import { loadPrivateKey } from "./hex-key-flag.js";

const help = `pkgpub hex publish: publish a Hex package release into a signed Hex repository

Usage:
  pkgpub hex publish --repo <name> --private-key <pem-file|env:VAR> --source <path|git-url> [--ref <tag>] [--build-tool mix|rebar3]
  pkgpub hex publish --repo <name> --private-key <pem-file|env:VAR> --tarball <file>

Input (one of):
  --source <path|git-url>  a Mix or rebar3 project in git. The package is built from the files at
                           the tag, without Elixir or Erlang: mix.exs is read statically (literals,
                           attributes, #{} of attributes, functions returning literals, clauses
                           chosen with Mix.env() :prod), rebar3 projects from src/<app>.app.src,
                           rebar.config and rebar.lock ({vsn, git} becomes the tag; without a
                           lock, rebar.config's requirements). The version must equal the tag.
  --build-tool <tool>      mix or rebar3, for a repository with both a mix.exs and a rebar3 project
                           (src/<app>.app.src). Default: mix; when one of the two cannot be read
                           statically, the other, and the output says so
  --ref <tag>              the tag to publish (v1.2.3 or 1.2.3); default: the one version tag
                           on HEAD (for a URL, the default branch's head)
  --tarball <file>         a tarball made by \`mix hex.build\` or \`rebar3 hex build\`; checked
                           (VERSION, CHECKSUM, metadata.config, contents.tar.gz) and stored byte for byte

Options:
  --repo <name>            the repository (objects under repos/<name>/ in the store); clients must
                           use this same name
  --private-key <spec>     the repository's RSA private key: a PEM file, or env:VAR to read the PEM
                           from an environment variable (see \`pkgpub hex keygen\`)
  --store <store>          a directory, file://… or s3://bucket[/prefix] (default: PKGPUB_STORE or ./data)
  --replace                overwrite a release that is already published with different bytes
  -h, --help               show this help

What is written, in order: repos/<name>/tarballs/<package>-<version>.tar (create-only: the same
bytes again change nothing), repos/<name>/packages/<package>, repos/<name>/versions and names
(signed), and repos/<name>/public_key if it is missing. Nothing is written if the input, the key
or the existing repository is refused.
`;

const command: Command = {
  path: ["hex", "publish"],
  summary: "publish a Hex package from a git tag or a tarball",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, {
      repo: { type: "string" },
      "private-key": { type: "string" },
      store: { type: "string" },
      source: { type: "string" },
      ref: { type: "string" },
      "build-tool": { type: "string" },
      tarball: { type: "string" },
      replace: { type: "boolean" },
    });
    const repo = requireFlag(values.repo, "--repo");
    if ((values.source === undefined) === (values.tarball === undefined)) throw new UsageError("give exactly one of --source or --tarball");
    if (values.ref !== undefined && values.source === undefined) throw new UsageError("--ref goes with --source");
    const buildTool = values["build-tool"];
    if (buildTool !== undefined && values.source === undefined) throw new UsageError("--build-tool goes with --source");
    if (buildTool !== undefined && !(BUILD_TOOLS as readonly string[]).includes(buildTool)) throw new UsageError(`--build-tool must be ${BUILD_TOOLS.join(" or ")}, not ${JSON.stringify(buildTool)}`);
    const privateKey = await loadPrivateKey(values["private-key"], ctx.env, ctx.cwd);
    // Local paths are relative to the invocation's directory; URLs stay as they are.
    const local = (p: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^[^/\s]+@[^/\s]+:/.test(p) ? p : path.resolve(ctx.cwd, p));
    const input: HexInput = values.tarball !== undefined ? { tarball: path.resolve(ctx.cwd, values.tarball) } : { source: local(values.source!), ...(values.ref !== undefined ? { ref: values.ref } : {}), ...(buildTool !== undefined ? { buildTool: buildTool as BuildTool } : {}) };
    const store = await openStore(values.store, ctx.env);
    const result = await publishHex({
      store,
      repo,
      privateKey,
      input,
      replace: values.replace ?? false,
      env: ctx.env,
      cwd: ctx.cwd,
      log: (line) => ctx.stderr.write(`${line}\n`),
    });
    const what = { created: "published", unchanged: "already published (same bytes)", replaced: "replaced" }[result.tarball];
    ctx.stdout.write(`${result.name} ${result.version}: ${what} in repository ${repo} (${store.description})\n`);
    ctx.stdout.write(`  ${result.tarballKey}  sha256 ${result.outerChecksum}\n`);
    if (result.publicKeyWritten) ctx.stdout.write(`  wrote repos/${repo}/public_key\n`);
    return 0;
  },
};
export default command;
