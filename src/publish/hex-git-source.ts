import { GitRepository } from "../git/repository.js";
import { gitText } from "../git/run-git.js";
import type { SourceTree } from "../hex/source.js";

export interface TaggedTree {
  tree: SourceTree;
  tag: string;
  commit: string;
  close(): void;
}

/**
 * The files of a package repository at a tag, read from git objects (never a checkout). Without
 * --ref exactly one version tag must point at HEAD (a clone's default branch).
 */
export async function openTaggedTree(source: string, ref: string | undefined, env: NodeJS.ProcessEnv): Promise<TaggedTree> {
  const repo = await GitRepository.open(source, { env, refresh: true });
  try {
    const git = (...args: string[]) => gitText(["--git-dir", repo.gitDir, ...args], { env });
    let tag: string;
    let commit: string;
    if (ref !== undefined) {
      tag = ref.replace(/^refs\/tags\//, "");
      try {
        commit = await git("rev-parse", "--verify", "--quiet", `refs/tags/${tag}^{commit}`);
      } catch {
        throw new Error(`${repo.display}: no tag ${JSON.stringify(tag)} (--ref must name a tag such as v1.2.3)`);
      }
    } else {
      commit = await repo.resolveCommit();
      const tags = (await git("tag", "--points-at", commit)).split("\n").filter((t) => /^v?\d+\.\d+\.\d+/.test(t));
      if (tags.length === 0) throw new Error(`${repo.display}: HEAD ${commit.slice(0, 12)} has no version tag; tag it (v1.2.3) or pass --ref <tag>`);
      if (tags.length > 1) throw new Error(`${repo.display}: head ${commit.slice(0, 12)} has several version tags (${tags.join(", ")}); pass --ref <tag>`);
      tag = tags[0]!;
    }
    const entries = (await repo.lsTree(await repo.treeOf(commit))).filter((e) => e.type === "blob");
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const symlinks = new Map<string, string>();
    for (const e of entries) if (e.mode === "120000") symlinks.set(e.path, (await repo.readBlob(e.hash)).toString("utf8"));
    const tree: SourceTree = {
      paths: entries.map((e) => e.path),
      async read(path) {
        const e = byPath.get(path);
        if (!e) throw new Error(`${repo.display} ${tag}: no file ${path}`);
        return new Uint8Array(await repo.readBlob(e.hash));
      },
      isExecutable: (path) => byPath.get(path)?.mode === "100755",
      symlinkTarget: (path) => symlinks.get(path),
    };
    return { tree, tag, commit, close: () => repo.close() };
  } catch (err) {
    repo.close();
    throw err;
  }
}
