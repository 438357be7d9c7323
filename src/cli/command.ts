import { parseArgs, type ParseArgsConfig } from "node:util";

/** What a command may touch: injected so tests can run the CLI in-process. */
export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  stopSignal?: AbortSignal;
}

export interface Command {
  /** Words that select the command, e.g. ["julia", "publish"]. */
  path: string[];
  summary: string;
  /** The full --help text. */
  help: string;
  run(argv: string[], ctx: CliContext): Promise<number>;
}

/** Wrong flags or arguments: printed with the command's help line, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with errors turned into UsageError and --help handled by the caller. */
export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing required ${flag}`);
  return value;
}
