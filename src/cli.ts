import type { Command, CliContext } from "./cli/command.js";
import { UsageError } from "./cli/command.js";

type Loader = () => Promise<Command>;

/** Commands load lazily so `pkgpub serve` never pulls in the publisher's dependencies, and back. */
const COMMANDS: Array<{ path: string[]; summary: string; load: Loader }> = [
  { path: ["julia", "publish"], summary: "publish a git-hosted Julia registry, its packages and artifacts to a store", load: async () => (await import("./cli/julia-publish.js")).default },
  { path: ["julia", "register"], summary: "register a tagged Julia package version in a registry repository", load: async () => (await import("./cli/julia-register.js")).default },
  { path: ["hex", "keygen"], summary: "make a signing key pair for a Hex repository", load: async () => (await import("./cli/hex-keygen.js")).default },
  { path: ["hex", "publish"], summary: "publish a Hex package from a git tag or a tarball", load: async () => (await import("./cli/hex-publish.js")).default },
  { path: ["hex", "retire"], summary: "mark a Hex release as retired", load: async () => (await import("./cli/hex-retire.js")).retire },
  { path: ["hex", "unretire"], summary: "clear a Hex release's retirement", load: async () => (await import("./cli/hex-retire.js")).unretire },
  { path: ["mirror", "julia"], summary: "copy exactly what Manifest.toml files pin from a Pkg server into the store, verified", load: async () => (await import("./cli/mirror-julia.js")).default },
  { path: ["mirror", "hex"], summary: "copy exactly what mix.lock/rebar.lock pin from a Hex repository into the store, verified", load: async () => (await import("./cli/mirror-hex.js")).default },
  { path: ["serve"], summary: "serve a store read-only over HTTP (Julia Pkg server and Hex repositories)", load: async () => (await import("./cli/serve.js")).default },
  { path: ["verify"], summary: "check every object the store's indexes name", load: async () => (await import("./cli/verify.js")).default },
  { path: ["reconcile"], summary: "publish whatever the store lacks for the configured registries and repositories", load: async () => (await import("./cli/reconcile.js")).default },
  { path: ["app"], summary: "run the GitHub App (Probot) webhook server", load: async () => (await import("./cli/app.js")).default },
];

/** What each command group is for, the first line of `pkgpub <group> --help`. */
const GROUPS: Record<string, string> = {
  julia: "publish Julia registries and register Julia packages",
  hex: "sign and publish Hex repositories",
  mirror: "copy what lock files pin from an upstream into the store",
};

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(" ").length));
  const lines = COMMANDS.map((c) => `  pkgpub ${c.path.join(" ").padEnd(width)}  ${c.summary}`);
  return [
    "pkgpub: git push as the publish step for private Julia and Hex packages",
    "",
    "Usage:",
    ...lines,
    "",
    "Run `pkgpub <command> --help` for a command's flags.",
    "The store is --store or PKGPUB_STORE: a directory (default ./data), file://… or s3://bucket[/prefix].",
    "",
  ].join("\n");
}

export async function main(argv: string[], ctx: Partial<CliContext> = {}): Promise<number> {
  const io: CliContext = {
    stdout: ctx.stdout ?? process.stdout,
    stderr: ctx.stderr ?? process.stderr,
    env: ctx.env ?? process.env,
    cwd: ctx.cwd ?? process.cwd(),
    stopSignal: ctx.stopSignal,
  };
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.stdout.write(topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === "--version") {
    io.stdout.write(`${PKGPUB_VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.path.every((w, i) => argv[i] === w));
  if (!entry && COMMANDS.some((c) => c.path.length > 1 && c.path[0] === argv[0]) && (argv.length === 1 || argv[1] === "--help" || argv[1] === "-h")) {
    // A command group ("pkgpub mirror --help"): its commands, each with its own --help.
    const group = COMMANDS.filter((c) => c.path[0] === argv[0]);
    const width = Math.max(...group.map((c) => c.path.join(" ").length));
    io.stdout.write(`pkgpub ${argv[0]}: ${GROUPS[argv[0]!] ?? "commands"}\n\nUsage:\n${group.map((c) => `  pkgpub ${c.path.join(" ").padEnd(width)}  ${c.summary}`).join("\n")}\n\nRun \`pkgpub ${argv[0]} <command> --help\` for a command's flags.\n`);
    return argv.length === 1 ? 2 : 0;
  }
  if (!entry) {
    io.stderr.write(`pkgpub: unknown command ${JSON.stringify(argv.slice(0, 2).join(" "))}\n\n${topHelp()}`);
    return 2;
  }
  const command = await entry.load();
  const rest = argv.slice(entry.path.length);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const name = `pkgpub ${entry.path.join(" ")}`;
    if (err instanceof UsageError) {
      io.stderr.write(`${name}: ${err.message}\nRun \`${name} --help\` for usage.\n`);
      return 2;
    }
    io.stderr.write(`${name}: ${errorText(err)}\n`);
    return 1;
  }
}

/** The message only: stacks and causes can carry request details (URLs with tokens, headers). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

declare const __PKGPUB_VERSION__: string | undefined;
const PKGPUB_VERSION = typeof __PKGPUB_VERSION__ === "string" ? __PKGPUB_VERSION__ : "dev";
