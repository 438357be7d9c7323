// Registers a tagged package version in a registry repository: the git side of
// src/julia/registration (read the tag from git objects, hash its tree, commit, push).

import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseProject } from "../julia/registration/project.js";
import { packageRelPath, planRegistration, RegistrationError, type RegistrationPlan } from "../julia/registration/register.js";
import { parseRegistryToml } from "../julia/registration/registry-files.js";
import { checkRelativePath } from "../julia/registry-toml.js";
import { redactSecrets as redact } from "../git/redact.js";
import { refuseOptionLike } from "../git/option-guard.js";
import { runGit as git, GitError, gitText } from "../git/run-git.js";
import { isGitUrl } from "./git-token.js";

export interface RegisterOptions {
  /** Registry repository: a local path or a git URL. */
  registry: string;
  /** Package repository: a local path or a git URL. */
  package: string;
  /** The tag to register (v1.2.3, or <Name>-v1.2.3 for a subdir package). */
  ref: string;
  subdir?: string;
  /** Push the registry commit (required when the registry is a URL or a bare repository). */
  push?: boolean;
  /** Push to this branch instead of the registry's branch (for a pull request). */
  pushBranch?: string;
  /** The repository URL to record for a new package; defaults to the URL given, or the package's only remote. */
  repo?: string;
  gitEnv?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RegisterResult {
  plan: RegistrationPlan;
  /** The package commit the tag points at. */
  commit: string;
  /** The new registry commit (absent when the version was already registered). */
  registryCommit?: string;
  /** The registry branch the commit is on. */
  branch: string;
  pushed: boolean;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

/** Strips credentials from a URL before it goes into a registry file or a message. */
function publicUrl(url: string): string {
  return url.replace(/^(\w[\w+.-]*:\/\/)[^/@]+@/, "$1");
}

interface PackageSource {
  gitDir: string;
  repo: string;
  cleanup: () => Promise<void>;
}

async function openPackage(opts: RegisterOptions): Promise<PackageSource> {
  const env = opts.gitEnv;
  if (isGitUrl(opts.package)) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pkgpub-pkg-"));
    try {
      await git(["init", "-q", "--bare", "--", dir], { env });
      await git(["fetch", "-q", "--no-tags", "--depth=1", "--", opts.package, `+refs/tags/${opts.ref}:refs/tags/${opts.ref}`], { cwd: dir, env });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (err instanceof GitError) throw new Error(`cannot fetch tag ${opts.ref} from ${redact(opts.package)}: ${err.stderr.trim().split("\n").pop()}`);
      throw err;
    }
    return { gitDir: dir, repo: opts.repo ?? publicUrl(opts.package), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const dir = path.resolve(opts.package);
  if (!(await isDir(dir))) throw new Error(`package repository ${opts.package} does not exist`);
  let repo = opts.repo;
  if (!repo) {
    const remotes = (await gitText(["remote"], { cwd: dir, env })).split("\n").filter(Boolean);
    if (remotes.length !== 1) {
      throw new Error(`package repository ${opts.package} has ${remotes.length === 0 ? "no git remote" : `${remotes.length} git remotes`}; pass --repo <url> to say which URL to register`);
    }
    repo = publicUrl(await gitText(["remote", "get-url", "--", remotes[0]!], { cwd: dir, env }));
  }
  return { gitDir: dir, repo, cleanup: async () => {} };
}

async function blobAt(gitDir: string, spec: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    return (await git(["cat-file", "blob", spec], { cwd: gitDir, env })).toString("utf8");
  } catch {
    return undefined;
  }
}

interface TaggedPackage {
  commit: string;
  treeHash: string;
  projectText: string;
  projectFile: string;
}

async function readTagged(src: PackageSource, opts: RegisterOptions): Promise<TaggedPackage> {
  const env = opts.gitEnv;
  const subdir = (opts.subdir ?? "").replace(/^\/+|\/+$/g, "");
  let commit: string;
  try {
    commit = await gitText(["rev-parse", "--verify", "--quiet", `refs/tags/${opts.ref}^{commit}`], { cwd: src.gitDir, env });
  } catch {
    throw new RegistrationError(`tag ${opts.ref} not found in ${src.repo}`);
  }
  let treeHash: string;
  try {
    treeHash = await gitText(["rev-parse", "--verify", "--quiet", subdir ? `${commit}:${subdir}` : `${commit}^{tree}`], { cwd: src.gitDir, env });
  } catch {
    throw new RegistrationError(`${opts.ref} has no directory ${subdir}`);
  }
  if ((await gitText(["cat-file", "-t", treeHash], { cwd: src.gitDir, env })) !== "tree") throw new RegistrationError(`${subdir} at ${opts.ref} is not a directory`);
  const prefix = subdir ? `${subdir}/` : "";
  for (const name of ["JuliaProject.toml", "Project.toml"]) {
    const text = await blobAt(src.gitDir, `${commit}:${prefix}${name}`, env);
    if (text !== undefined) return { commit, treeHash, projectText: text, projectFile: `${prefix}${name} at ${opts.ref}` };
  }
  throw new RegistrationError(`${opts.ref} has no ${prefix}Project.toml`);
}

interface RegistryCheckout {
  dir: string;
  branch: string;
  inPlace: boolean;
  cleanup: () => Promise<void>;
}

async function openRegistry(opts: RegisterOptions): Promise<RegistryCheckout> {
  const env = opts.gitEnv;
  if (!isGitUrl(opts.registry)) {
    const dir = path.resolve(opts.registry);
    if (!(await isDir(dir))) throw new Error(`registry ${opts.registry} does not exist`);
    const bare = (await gitText(["rev-parse", "--is-bare-repository"], { cwd: dir, env }).catch(() => "")) === "true";
    if (!bare) {
      const top = await gitText(["rev-parse", "--show-toplevel"], { cwd: dir, env }).catch(() => "");
      if (!top) throw new Error(`registry ${opts.registry} is not a git repository`);
      const dirty = await gitText(["status", "--porcelain", "--untracked-files=no"], { cwd: top, env });
      if (dirty) throw new Error(`registry ${opts.registry} has uncommitted changes; commit or discard them first`);
      const branch = await gitText(["symbolic-ref", "--short", "HEAD"], { cwd: top, env });
      return { dir: top, branch, inPlace: true, cleanup: async () => {} };
    }
  }
  if (!opts.push) throw new Error(`registry ${redact(opts.registry)} is a URL or a bare repository: pass --push, or the registration commit would be lost`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "pkgpub-registry-"));
  try {
    await git(["clone", "-q", "--", opts.registry, dir], { env });
    const branch = await gitText(["symbolic-ref", "--short", "HEAD"], { cwd: dir, env });
    return { dir, branch, inPlace: false, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (err instanceof GitError) throw new Error(`cannot clone registry ${redact(opts.registry)}: ${err.stderr.trim().split("\n").pop()}`);
    throw err;
  }
}

async function readRegistryFile(dir: string, rel: string): Promise<string | undefined> {
  return readFile(path.join(dir, ...rel.split("/")), "utf8").catch(() => undefined);
}

/** Reads every file the planner may ask for up front, so the planner stays synchronous and pure. */
async function snapshot(dir: string, paths: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of paths) {
    const text = await readRegistryFile(dir, p);
    if (text !== undefined) out.set(p, text);
  }
  return out;
}

async function plan(reg: RegistryCheckout, opts: RegisterOptions, tagged: TaggedPackage, repo: string): Promise<RegistrationPlan> {
  const project = parseProject(tagged.projectText, tagged.projectFile);
  const registryText = await readRegistryFile(reg.dir, "Registry.toml");
  const files = new Map<string, string>();
  if (registryText !== undefined) files.set("Registry.toml", registryText);
  // The package directory is either the one Registry.toml names or the conventional path.
  const dirs = new Set<string>();
  const known = registryText === undefined ? undefined : parseRegistryToml(registryText).packages[project.uuid];
  if (known) dirs.add(known.path);
  dirs.add(packageRelPath(project.name));
  for (const d of dirs) {
    const names = ["Package.toml", "Versions.toml", "Deps.toml", "Compat.toml", "WeakDeps.toml", "WeakCompat.toml"].map((f) => `${d}/${f}`);
    for (const [k, v] of await snapshot(reg.dir, names)) files.set(k, v);
  }
  return planRegistration({ project, treeHash: tagged.treeHash, repo, subdir: (opts.subdir ?? "").replace(/^\/+|\/+$/g, ""), tag: opts.ref, read: (p) => files.get(p) });
}

async function identityArgs(dir: string, env?: NodeJS.ProcessEnv): Promise<string[]> {
  const email = await gitText(["config", "user.email"], { cwd: dir, env }).catch(() => "");
  if (email || env?.GIT_COMMITTER_EMAIL || process.env.GIT_COMMITTER_EMAIL) return [];
  return ["-c", "user.name=pkgpub", "-c", "user.email=pkgpub@users.noreply.github.com"];
}

/**
 * Writes and commits the planned files. In a working tree the user gave us, a failure puts every
 * file back as it was, so a refused or broken registration leaves nothing behind.
 */
async function commitFiles(reg: RegistryCheckout, p: RegistrationPlan, env?: NodeJS.ProcessEnv): Promise<void> {
  const paths = Object.keys(p.files);
  const before = new Map<string, string | undefined>();
  for (const rel of paths) before.set(rel, await readRegistryFile(reg.dir, rel));
  try {
    for (const [rel, text] of Object.entries(p.files)) {
      const file = path.join(reg.dir, ...rel.split("/"));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
    }
    await git(["add", "--", ...paths], { cwd: reg.dir, env });
    await git([...(await identityArgs(reg.dir, env)), "commit", "-q", "-F", "-"], { cwd: reg.dir, env, input: p.commitMessage });
  } catch (err) {
    if (reg.inPlace) {
      await git(["reset", "-q", "--", ...paths], { cwd: reg.dir, env }).catch(() => undefined);
      for (const [rel, text] of before) {
        const file = path.join(reg.dir, ...rel.split("/"));
        if (text === undefined) await rm(file, { force: true });
        else await writeFile(file, text);
      }
    }
    throw err;
  }
}

/** Registers opts.ref of the package in the registry (LocalRegistry's register()). */
export async function registerPackage(opts: RegisterOptions): Promise<RegisterResult> {
  const log = opts.log ?? (() => {});
  if (!/^[A-Za-z0-9_][A-Za-z0-9._+\/-]*$/.test(opts.ref) || opts.ref.includes("..") || opts.ref.endsWith(".lock")) {
    throw new RegistrationError(`--ref ${JSON.stringify(opts.ref)} is not a tag name`);
  }
  if (opts.subdir) checkRelativePath(opts.subdir.replace(/^\/+|\/+$/g, ""), "--subdir", "subdirectory");
  refuseOptionLike(opts.package, "package repository");
  refuseOptionLike(opts.registry, "registry");
  if (opts.repo !== undefined) refuseOptionLike(opts.repo, "--repo");
  const env = opts.gitEnv;
  const src = await openPackage(opts);
  try {
    const tagged = await readTagged(src, opts);
    const project = parseProject(tagged.projectText, tagged.projectFile);
    const entry = `${(opts.subdir ?? "").replace(/^\/+|\/+$/g, "") ? `${opts.subdir!.replace(/^\/+|\/+$/g, "")}/` : ""}src/${project.name}.jl`;
    if ((await blobAt(src.gitDir, `${tagged.commit}:${entry}`, env)) === undefined) {
      throw new RegistrationError(`${opts.ref} has no ${entry}; a Julia package needs it`);
    }
    const reg = await openRegistry(opts);
    try {
      for (let attempt = 1; ; attempt++) {
        const p = await plan(reg, opts, tagged, src.repo);
        if (p.kind === "Already registered") {
          log(`${p.name} v${p.version} is already registered with tree ${p.treeHash}`);
          return { plan: p, commit: tagged.commit, branch: reg.branch, pushed: false };
        }
        await commitFiles(reg, p, env);
        const registryCommit = await gitText(["rev-parse", "HEAD"], { cwd: reg.dir, env });
        log(`${p.kind}: ${p.name} v${p.version} (tree ${p.treeHash}) committed as ${registryCommit}`);
        if (!opts.push) return { plan: p, commit: tagged.commit, registryCommit, branch: reg.branch, pushed: false };
        const target = opts.pushBranch ?? reg.branch;
        try {
          await git(["push", "-q", ...(opts.pushBranch ? ["--force"] : []), "origin", `HEAD:refs/heads/${target}`], { cwd: reg.dir, env });
          log(`pushed to ${redact(opts.registry)} ${target}`);
          return { plan: p, commit: tagged.commit, registryCommit, branch: target, pushed: true };
        } catch (err) {
          // Someone else pushed to the registry meanwhile: start again from their commit.
          if (reg.inPlace || opts.pushBranch || attempt >= 5 || !(err instanceof GitError) || !/rejected|fetch first|non-fast-forward/.test(err.stderr)) throw err;
          log(`push rejected (the registry moved); retrying on top of the new ${reg.branch}`);
          await git(["fetch", "-q", "origin", reg.branch], { cwd: reg.dir, env });
          await git(["reset", "-q", "--hard", `origin/${reg.branch}`], { cwd: reg.dir, env });
        }
      }
    } finally {
      await reg.cleanup();
    }
  } finally {
    await src.cleanup();
  }
}
