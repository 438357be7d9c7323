import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A fixed identity and clock so that fixture commits are reproducible and need no global config. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "pkgpub test",
  GIT_AUTHOR_EMAIL: "test@pkgpub.invalid",
  GIT_COMMITTER_NAME: "pkgpub test",
  GIT_COMMITTER_EMAIL: "test@pkgpub.invalid",
  GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A temp directory removed by the returned cleanup (call it in afterAll). */
export function tempDir(prefix = "pkgpub-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** File contents by path; a value {symlink} makes a symlink, {mode} sets the mode of a file. */
export type FileSpec = string | Buffer | { content: string | Buffer; mode: number } | { symlink: string };

/** Writes files into dir (creating parents). */
export function writeFiles(dir: string, files: Record<string, FileSpec>): void {
  for (const [rel, spec] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof spec === "string" || Buffer.isBuffer(spec)) {
      writeFileSync(file, spec);
    } else if ("symlink" in spec) {
      rmSync(file, { force: true });
      symlinkSync(spec.symlink, file);
    } else {
      writeFileSync(file, spec.content);
      chmodSync(file, spec.mode);
    }
  }
}

/** git init + commit of the given files; returns the repo path and the commit and tree ids. */
export function makeRepo(
  dir: string,
  files: Record<string, FileSpec>,
  message = "initial",
): { dir: string; commit: string; tree: string } {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  return commitFiles(dir, files, message);
}

/** Writes files into an existing repo and commits everything. */
export function commitFiles(dir: string, files: Record<string, FileSpec>, message: string): { dir: string; commit: string; tree: string } {
  writeFiles(dir, files);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return { dir, commit: git(dir, "rev-parse", "HEAD"), tree: git(dir, "rev-parse", "HEAD^{tree}") };
}
