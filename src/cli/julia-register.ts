import { registerPackage } from "../publish/registration.js";
import { parseFlags, requireFlag, type Command } from "./command.js";

const help = `pkgpub julia register: register a tagged Julia package version in a registry repository

Usage:
  pkgpub julia register --registry <path|git-url> --package <path|git-url> --ref <tag> [--subdir <dir>] [--push]

Does what LocalRegistry's register() does: reads Project.toml at the tag (from git objects, not a
checkout), checks the name, UUID, and that the version is new and matches the tag (v1.2.3, or
<Name>-v1.2.3 for a package in a subdirectory), then updates Registry.toml, Package.toml,
Versions.toml (the tree hash of the tagged commit or subdirectory), Deps/Compat/WeakDeps/WeakCompat
and commits "New package: X v1.2.3" / "New version: X v1.2.3".

Flags:
  --registry <path|url>  the registry repository; a local working tree is committed to in place,
                         a URL or bare repository is cloned to a temporary directory (needs --push)
  --package <path|url>   the package repository
  --ref <tag>            the tag to register
  --subdir <dir>         the package's directory inside its repository
  --repo <url>           the repository URL to record for a new package (default: the --package
                         URL, or the package checkout's only git remote)
  --push                 push the registry commit to the registry's remote
  --push-branch <name>   push to this branch instead (to open a pull request from it)

A version that is already registered with the same tree is reported and nothing is written; one
registered with a different tree, or a package registered from a different repository, is refused.
`;

const command: Command = {
  path: ["julia", "register"],
  summary: "register a tagged Julia package version in a registry repository",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, {
      registry: { type: "string" },
      package: { type: "string" },
      ref: { type: "string" },
      subdir: { type: "string" },
      repo: { type: "string" },
      push: { type: "boolean" },
      "push-branch": { type: "string" },
    });
    const result = await registerPackage({
      registry: requireFlag(values.registry, "--registry"),
      package: requireFlag(values.package, "--package"),
      ref: requireFlag(values.ref, "--ref"),
      subdir: values.subdir,
      repo: values.repo,
      push: values.push ?? false,
      pushBranch: values["push-branch"],
      gitEnv: ctx.env,
      log: (line) => ctx.stderr.write(`${line}\n`),
    });
    const p = result.plan;
    if (p.kind === "Already registered") {
      ctx.stdout.write(`${p.name} v${p.version} is already registered (tree ${p.treeHash}); nothing to do\n`);
    } else {
      ctx.stdout.write(`${p.kind}: ${p.name} v${p.version}\n  uuid ${p.uuid}\n  tree ${p.treeHash}\n  registry commit ${result.registryCommit} on ${result.branch}${result.pushed ? " (pushed)" : ""}\n`);
    }
    return 0;
  },
};
export default command;
