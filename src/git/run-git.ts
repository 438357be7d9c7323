import { spawn } from "node:child_process";
import { redactSecrets } from "./redact.js";

export interface GitOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Uint8Array;
}

export class GitError extends Error {
  constructor(readonly args: string[], readonly exitCode: number | null, readonly stderr: string) {
    super(`git ${redactSecrets(args.join(" "))} failed (exit ${exitCode}): ${redactSecrets(stderr.trim()) || "no message"}`);
    this.name = "GitError";
  }
}

/**
 * Runs git with no prompts and no user/system configuration that could change object content
 * (autocrlf, filters) or hang (credential helpers asking a terminal).
 */
export function runGit(args: string[], options: GitOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd: options.cwd,
      env: gitEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => reject(new Error(`cannot run git: ${e.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new GitError(args, code, Buffer.concat(err).toString("utf8")));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
  });
}

export async function gitText(args: string[], options: GitOptions = {}): Promise<string> {
  return (await runGit(args, options)).toString("utf8").trim();
}

export function gitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: env.GIT_ASKPASS ?? "/bin/false",
    LC_ALL: "C",
  };
}
