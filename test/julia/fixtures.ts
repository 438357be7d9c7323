import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { commitFiles, git, makeRepo, writeFiles, type FileSpec } from "../support/git-repo.js";

export const REGISTRY_UUID = "a1b2c3d4-0000-4000-8000-00000000000a";
export const FOO_UUID = "f0f0f0f0-1111-4111-8111-111111111111";
export const BAR_UUID = "babababa-2222-4222-8222-222222222222";

/** A loopback HTTP server for files in a directory (artifact downloads). */
export async function serveDir(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    try {
      const body = readFileSync(path.join(dir, path.basename(decodeURIComponent(req.url ?? "/"))));
      res.writeHead(200, { "content-length": body.length });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** The skip-empty git tree hash of a directory, computed by git itself. */
export function gitTreeOfDir(dir: string): string {
  const env = { ...process.env, GIT_DIR: path.join(dir, "..", `.git-oracle-${path.basename(dir)}`), GIT_WORK_TREE: dir };
  execFileSync("git", ["init", "-q"], { env });
  execFileSync("git", ["add", "-A", "--force", "."], { env, cwd: dir });
  return execFileSync("git", ["write-tree"], { env, encoding: "utf8" }).trim();
}

/** Unpacks a gzip tarball with GNU tar (an independent reader) and hashes the result with git. */
export function treeOfTarball(tarball: Buffer, into: string): string {
  mkdirSync(into, { recursive: true });
  execFileSync("tar", ["-xzf", "-", "-C", into], { input: tarball });
  return gitTreeOfDir(into);
}

export interface ArtifactFixture {
  name: string;
  file: string;
  sha256: string;
  treeHash: string;
}

/** A tar.gz made by GNU tar (with ./ prefixes, mtimes, an empty dir) and its expected hashes. */
export function makeArtifact(root: string, name: string, files: Record<string, FileSpec>, emptyDirs: string[] = []): ArtifactFixture {
  const src = path.join(root, `${name}-src`);
  writeFiles(src, files);
  for (const d of emptyDirs) mkdirSync(path.join(src, d), { recursive: true });
  const file = path.join(root, `${name}.tar.gz`);
  execFileSync("tar", ["-czf", file, "-C", src, "."]);
  const treeHash = gitTreeOfDir(src);
  return { name, file, sha256: createHash("sha256").update(readFileSync(file)).digest("hex"), treeHash };
}

export function artifactsToml(a: ArtifactFixture, baseUrl: string, extra = ""): string {
  return `[${a.name}]\ngit-tree-sha1 = "${a.treeHash}"\nlazy = true\n\n[[${a.name}.download]]\nurl = "${baseUrl}/${path.basename(a.file)}"\nsha256 = "${a.sha256}"\n${extra}`;
}

/** Package files covering the awkward cases of issue 2's fixture list. */
export function fooFiles(version: string, artifacts: string): Record<string, FileSpec> {
  const long = `${"deep-directory-name-".repeat(4)}/${"x".repeat(60)}/file-with-a-long-name.jl`;
  return {
    "Project.toml": `name = "Foo"\nuuid = "${FOO_UUID}"\nversion = "${version}"\n`,
    "src/Foo.jl": `module Foo\nversion() = "${version}"\nend\n`,
    "bin/run.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
    "bin/group-exec-only": { content: "not owner executable\n", mode: 0o654 },
    "link-to-file": { symlink: "src/Foo.jl" },
    "link-to-dir": { symlink: "src" },
    "dangling": { symlink: "does/not/exist" },
    "docs/naïve café.md": "non-ASCII and spaces\n",
    "docs/empty": "",
    [long]: "a path longer than 100 bytes (ustar prefix)\n",
    [`${"p".repeat(100)}/${"q".repeat(100)}/${"r".repeat(100)}.jl`]: "a path longer than 255 bytes (pax)\n",
    ".gitattributes": "ignored.txt export-ignore\nsubst.txt export-subst\n*.md text eol=crlf\n",
    "ignored.txt": "git archive would drop this\n",
    "subst.txt": "$Format:%H$\n",
    "Artifacts.toml": artifacts,
  };
}

export interface RegistryFixture {
  dir: string;
  fooRepo: string;
  monoRepo: string;
  fooTrees: Record<string, string>;
  barTree: string;
  artifact: ArtifactFixture;
  artifactServer: { url: string; close: () => Promise<void> };
}

export function registryToml(packages: Array<{ uuid: string; name: string; path: string }>, uuid = REGISTRY_UUID): string {
  const lines = packages
    .sort((a, b) => (a.uuid < b.uuid ? -1 : 1))
    .map((p) => `${p.uuid} = { name = "${p.name}", path = "${p.path}" }`);
  return `name = "TestRegistry"\nuuid = "${uuid}"\nrepo = "https://example.invalid/TestRegistry.git"\n\n[packages]\n${lines.join("\n")}\n`;
}

export function versionsToml(versions: Array<{ version: string; tree: string; yanked?: boolean }>): string {
  return versions.map((v) => `["${v.version}"]\ngit-tree-sha1 = "${v.tree}"\n${v.yanked ? "yanked = true\n" : ""}`).join("\n");
}

/**
 * A registry with Foo (two versions, the older yanked, an artifact) and Bar (a subdir package
 * of a monorepo), all as real git repositories under root.
 */
export async function makeRegistryFixture(root: string): Promise<RegistryFixture> {
  const artifactDir = path.join(root, "artifacts");
  mkdirSync(artifactDir, { recursive: true });
  const artifact = makeArtifact(
    artifactDir,
    "libdemo",
    {
      "lib/libdemo.so": "binary-ish\0\x01\x02",
      "bin/demo": { content: "#!/bin/sh\n", mode: 0o755 },
      "lib/libdemo.so.1": { symlink: "libdemo.so" },
    },
    ["share/empty"],
  );
  const artifactServer = await serveDir(artifactDir);

  const fooRepo = path.join(root, "Foo.jl");
  const v1 = makeRepo(fooRepo, fooFiles("0.1.0", artifactsToml(artifact, artifactServer.url)), "Foo v0.1.0");
  const v2 = commitFiles(fooRepo, fooFiles("0.2.0", artifactsToml(artifact, artifactServer.url)), "Foo v0.2.0");
  git(fooRepo, "tag", "v0.1.0", v1.commit);
  git(fooRepo, "tag", "v0.2.0", v2.commit);

  const monoRepo = path.join(root, "mono");
  makeRepo(monoRepo, {
    "README.md": "a monorepo\n",
    "julia/Bar/Project.toml": `name = "Bar"\nuuid = "${BAR_UUID}"\nversion = "1.0.0"\n`,
    "julia/Bar/src/Bar.jl": "module Bar\nend\n",
    "python/setup.py": "print('not julia')\n",
  });
  const barTree = git(monoRepo, "rev-parse", "HEAD:julia/Bar");

  const dir = path.join(root, "registry");
  makeRepo(dir, {
    "Registry.toml": registryToml([
      { uuid: FOO_UUID, name: "Foo", path: "F/Foo" },
      { uuid: BAR_UUID, name: "Bar", path: "B/Bar" },
    ]),
    "F/Foo/Package.toml": `name = "Foo"\nuuid = "${FOO_UUID}"\nrepo = "${fooRepo}"\n`,
    "F/Foo/Versions.toml": versionsToml([
      { version: "0.1.0", tree: v1.tree, yanked: true },
      { version: "0.2.0", tree: v2.tree },
    ]),
    "F/Foo/Deps.toml": "",
    "F/Foo/Compat.toml": "",
    "B/Bar/Package.toml": `name = "Bar"\nuuid = "${BAR_UUID}"\nrepo = "file://${monoRepo}"\nsubdir = "julia/Bar"\n`,
    "B/Bar/Versions.toml": versionsToml([{ version: "1.0.0", tree: barTree }]),
    "B/Bar/Deps.toml": "",
    "B/Bar/Compat.toml": "",
  });
  return { dir, fooRepo, monoRepo, fooTrees: { "0.1.0": v1.tree, "0.2.0": v2.tree }, barTree, artifact, artifactServer };
}

export function writeText(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
