import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { makeRepo, GIT_ENV, type FileSpec } from "../support/git-repo.js";

/**
 * A gzip tarball of a git tree and the tree hash git reports for it (the oracle): `git archive`
 * of a tree id (not a commit) has no export-subst/ignore to apply when the tree has no
 * .gitattributes, so its members are exactly the tree's.
 */
export function treeTarball(dir: string, files: Record<string, FileSpec>): { hash: string; gz: Buffer } {
  const repo = makeRepo(dir, files);
  const tar = execFileSync("git", ["archive", "--format=tar", repo.tree], { cwd: repo.dir, env: GIT_ENV, maxBuffer: 1 << 30 });
  return { hash: repo.tree, gz: gzipSync(tar) };
}

export function registryFiles(name: string, uuid: string, packages: Array<{ name: string; uuid: string; versions: Record<string, string> }>): Record<string, FileSpec> {
  const files: Record<string, FileSpec> = {};
  const lines = [`name = "${name}"`, `uuid = "${uuid}"`, "", "[packages]"];
  for (const p of packages) {
    const dir = path.posix.join(p.name[0]!.toUpperCase(), p.name);
    lines.push(`${p.uuid} = { name = "${p.name}", path = "${dir}" }`);
    files[`${dir}/Package.toml`] = `name = "${p.name}"\nuuid = "${p.uuid}"\nrepo = "https://example.invalid/${p.name}.git"\n`;
    files[`${dir}/Versions.toml`] = Object.entries(p.versions)
      .map(([v, h]) => `["${v}"]\ngit-tree-sha1 = "${h}"\n`)
      .join("\n");
  }
  files["Registry.toml"] = `${lines.join("\n")}\n`;
  return files;
}
