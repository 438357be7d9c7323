// A small git runner for registration and reconcile. Errors carry git's own message, with any
// credentials that a URL might hold removed.

import { execFile } from "node:child_process";

export interface GitRun {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export class GitError extends Error {
  override name = "GitError";
  constructor(readonly args: string[], readonly stderr: string, readonly code: number | null) {
    super(`git ${redact(args.join(" "))} failed: ${redact(stderr.trim().split("\n").slice(-3).join("; ")) || `exit ${code}`}`);
  }
}

/** Removes user:password@ from URLs, and anything that looks like an Authorization value. */
export function redact(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]+@/g, "$1***@").replace(/(authorization:\s*\w+\s+)\S+/gi, "$1***");
}

export function git(args: string[], options: GitRun = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      { cwd: options.cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...options.env }, encoding: "buffer", maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new GitError(args, stderr.toString("utf8"), typeof err.code === "number" ? err.code : null));
        else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export async function gitText(args: string[], options: GitRun = {}): Promise<string> {
  return (await git(args, options)).toString("utf8").trim();
}

/** Is `spec` a URL (or scp-like user@host:path) rather than a local path? */
export function isGitUrl(spec: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) || /^[^/\\]+@[^/\\]+:/.test(spec);
}

/** Git config entries passed through the environment, so they never appear in a process list. */
export function gitConfigEnv(entries: Record<string, string>, base: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const pairs = Object.entries(entries);
  const env: NodeJS.ProcessEnv = { ...base, GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

/**
 * Environment that makes git send a GitHub installation or workflow token, only to `origin`
 * (https://github.com): package repositories on other hosts never see it.
 */
export function tokenGitEnv(token: string, origin: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return gitConfigEnv({ [`http.${origin}/.extraHeader`]: `Authorization: Basic ${basic}` }, base);
}
