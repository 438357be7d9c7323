import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CatFile, CatFileSequence } from "./cat-file.js";
import { refuseOptionLike } from "./option-guard.js";
import { redactSecrets, stripCredentials } from "./redact.js";
import { GitError, gitText, runGit } from "./run-git.js";

export interface OpenOptions {
  /** Where clones of remote repositories are kept (PKGPUB_GIT_CACHE_DIR, else ~/.cache/pkgpub/git). */
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Fetch an existing clone before use (registries: to see the newest commit). */
  refresh?: boolean;
}

export interface TreeListingEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  hash: string;
  /** Bytes of a blob; 0 for trees and gitlinks. */
  size: number;
  path: string;
}

/** A change between two trees, as `git diff-tree -r` reports it (blobs and gitlinks only). */
export interface TreeChange {
  /** A added, D deleted, M modified, T type changed. */
  status: string;
  path: string;
  /** The blob before and after; the zero id where there is none. */
  oldHash: string;
  newHash: string;
}

/** What a repository has cost so far: git processes started and objects read from them. */
export interface GitCounts {
  commands: number;
  objects: number;
}

const ZERO_ID = "0".repeat(40);
/** Paths per `git ls-tree` call: keeps the command line far below the system's limit. */
const PATHS_PER_CALL = 2000;

/** A git URL, local path or file:// URL, with its objects readable through one local git dir. */
export class GitRepository {
  private catFile?: CatFile;
  private fetched = false;
  /** Counted by every method here, so callers and tests can see what a step read. */
  readonly counts: GitCounts = { commands: 0, objects: 0 };

  private constructor(
    readonly gitDir: string,
    /** For messages: the spec with any credentials hidden. */
    readonly display: string,
    private readonly remote: string | undefined,
    private readonly env: NodeJS.ProcessEnv | undefined,
  ) {}

  static async open(spec: string, options: OpenOptions = {}): Promise<GitRepository> {
    const env = options.env;
    const display = redactSecrets(spec);
    refuseOptionLike(spec, "repository");
    if (isRemote(spec)) {
      const cacheDir = options.cacheDir ?? env?.PKGPUB_GIT_CACHE_DIR ?? process.env.PKGPUB_GIT_CACHE_DIR ?? path.join(os.homedir(), ".cache/pkgpub/git");
      const dir = path.join(path.resolve(cacheDir), createHash("sha256").update(stripCredentials(spec)).digest("hex").slice(0, 24) + ".git");
      const repo = new GitRepository(dir, display, spec, env);
      if (!existsSync(dir)) await repo.cloneMirror(dir);
      else if (options.refresh) await repo.fetch();
      return repo;
    }
    const local = spec.startsWith("file://") ? new URL(spec).pathname : spec;
    if (!existsSync(local)) throw new Error(`repository ${display}: no such directory`);
    let gitDir: string;
    try {
      gitDir = await gitText(["rev-parse", "--absolute-git-dir"], { cwd: local, env });
    } catch (err) {
      throw new Error(`repository ${display}: not a git repository (${err instanceof GitError ? err.stderr.trim() : String(err)})`);
    }
    return new GitRepository(gitDir, display, undefined, env);
  }

  private git(args: string[]): Promise<Buffer> {
    this.counts.commands++;
    return runGit(["--git-dir", this.gitDir, ...args], { env: this.env });
  }

  private async gitLine(args: string[]): Promise<string> {
    return (await this.git(args)).toString("utf8").trim();
  }

  private async cloneMirror(dir: string): Promise<void> {
    await mkdir(path.dirname(dir), { recursive: true });
    const tmp = `${dir}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await runGit(["clone", "--quiet", "--mirror", "--", this.remote!, tmp], { env: this.env });
      // Keep no credentials on disk: later fetches pass the URL again.
      await runGit(["--git-dir", tmp, "remote", "set-url", "--", "origin", stripCredentials(this.remote!)], { env: this.env });
      await rename(tmp, dir).catch(async (err) => {
        if (existsSync(dir)) return; // another publisher cloned it first
        throw err;
      });
      this.fetched = true;
    } catch (err) {
      throw new Error(`cannot clone ${this.display}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Brings the clone up to date with the remote (all refs, pruned). */
  async fetch(): Promise<void> {
    if (!this.remote) return;
    try {
      await runGit(["--git-dir", this.gitDir, "fetch", "--quiet", "--prune", "--force", "--", this.remote, "+refs/*:refs/*"], { env: this.env });
      this.fetched = true;
    } catch (err) {
      throw new Error(`cannot fetch ${this.display}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The commit a ref names: a branch, tag or commit id; the default branch when omitted. */
  async resolveCommit(ref?: string): Promise<string> {
    if (ref?.startsWith("-")) throw new Error(`repository ${this.display}: ref ${JSON.stringify(ref)} begins with "-"`);
    const candidates = ref === undefined ? ["HEAD"] : [`refs/heads/${ref}`, `refs/tags/${ref}`, ref];
    for (const c of candidates) {
      try {
        return await this.gitLine(["rev-parse", "--verify", "--quiet", "--end-of-options", `${c}^{commit}`]);
      } catch {
        // try the next spelling
      }
    }
    throw new Error(`repository ${this.display}: no commit for ${ref === undefined ? "the default branch" : JSON.stringify(ref)}`);
  }

  async treeOf(commitish: string, subdir?: string): Promise<string> {
    const spec = subdir ? `${commitish}:${subdir}` : `${commitish}^{tree}`;
    return this.gitLine(["rev-parse", "--verify", "--end-of-options", spec]);
  }

  async hasObject(hash: string, type: "tree" | "commit" | "blob"): Promise<boolean> {
    try {
      const t = await this.gitLine(["cat-file", "-t", hash]);
      return t === type;
    } catch {
      return false;
    }
  }

  /** True when the object is there, fetching once from the remote if it is not. */
  async ensureObject(hash: string, type: "tree" | "commit" | "blob"): Promise<boolean> {
    if (await this.hasObject(hash, type)) return true;
    if (!this.remote || this.fetched) return false;
    await this.fetch();
    return this.hasObject(hash, type);
  }

  /** Every entry below a tree (trees included), recursively, with blob sizes. */
  async lsTree(tree: string): Promise<TreeListingEntry[]> {
    return parseLsTree(await this.git(["ls-tree", "-r", "-t", "-z", "--long", "--full-tree", tree]));
  }

  /**
   * The entries at these exact paths of a tree (no recursion, no patterns); paths that are not
   * there are left out. Sizes are not looked up (0).
   */
  async lsPaths(tree: string, paths: readonly string[]): Promise<TreeListingEntry[]> {
    const out: TreeListingEntry[] = [];
    for (let i = 0; i < paths.length; i += PATHS_PER_CALL) {
      const chunk = paths.slice(i, i + PATHS_PER_CALL);
      this.counts.commands++;
      const bytes = await runGit(["--literal-pathspecs", "--git-dir", this.gitDir, "ls-tree", "-z", "--full-tree", tree, "--", ...chunk], { env: this.env });
      out.push(...parseLsTree(bytes));
    }
    return out;
  }

  /**
   * The files that differ between two trees. git compares the tree objects and descends only
   * into subtrees whose ids differ, so the cost follows the change, not the size of the trees.
   */
  async diffTrees(from: string, to: string): Promise<TreeChange[]> {
    const out = (await this.git(["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", from, to])).toString("utf8");
    const fields = out.split("\0");
    const changes: TreeChange[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const meta = fields[i]!;
      if (meta === "") break;
      // ":<old mode> <new mode> <old id> <new id> <status>"
      const [, , oldHash, newHash, status] = meta.slice(1).split(" ");
      changes.push({ status: status!, path: fields[i + 1]!, oldHash: oldHash ?? ZERO_ID, newHash: newHash ?? ZERO_ID });
    }
    return changes;
  }

  /** Tree ids of `commit` and all its ancestors (newest first). */
  async ancestorTrees(commit: string): Promise<string[]> {
    return (await this.gitLine(["log", "--format=%T", commit])).split("\n").filter(Boolean);
  }

  /** Tree ids of every commit reachable from any ref. */
  async allTrees(): Promise<Set<string>> {
    return new Set((await this.gitLine(["log", "--all", "--format=%T"])).split("\n").filter(Boolean));
  }

  objects(): CatFile {
    if (!this.catFile) {
      this.counts.commands++;
      this.catFile = new CatFile(this.gitDir, this.env);
    }
    return this.catFile;
  }

  /** Reads these objects in this order through one pipelined cat-file (see CatFileSequence). */
  sequence(hashes: readonly string[]): CatFileSequence {
    this.counts.commands++;
    this.counts.objects += hashes.length;
    return new CatFileSequence(this.gitDir, hashes, this.env);
  }

  async readBlob(hash: string): Promise<Buffer> {
    const objects = this.objects();
    this.counts.objects++;
    return objects.read(hash, "blob");
  }

  /** A file at a commit or tree, or null when there is none. */
  async readFileAt(treeish: string, file: string): Promise<Buffer | null> {
    let hash: string;
    try {
      hash = await this.gitLine(["rev-parse", "--verify", "--quiet", "--end-of-options", `${treeish}:${file}`]);
    } catch {
      return null;
    }
    return this.readBlob(hash);
  }

  close(): void {
    this.catFile?.close();
    this.catFile = undefined;
  }
}

function parseLsTree(out: Buffer): TreeListingEntry[] {
  const entries: TreeListingEntry[] = [];
  for (const record of out.toString("utf8").split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("\t");
    const [mode, type, hash, size] = record.slice(0, tab).split(/ +/);
    entries.push({ mode: mode!, type: type as TreeListingEntry["type"], hash: hash!, size: size === "-" || size === undefined ? 0 : Number(size), path: record.slice(tab + 1) });
  }
  return entries;
}

export function isRemote(spec: string): boolean {
  return /^(https?|ssh|git):\/\//i.test(spec) || /^[^-/\s][^/\s]*@[^/\s]+:/.test(spec);
}

