import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalOrder, writeTar, type CanonicalEntry } from "../../src/julia/tar-writer.js";
import { treeHashOfTar } from "../../src/julia/tar-tree-hash.js";
import { PACKAGE_RULES, REGISTRY_RULES } from "../../src/julia/tree-model.js";
import { git, tempDir, writeFiles } from "../support/git-repo.js";
import { fileChunks, listDir, writeSpecTree } from "./spec-tree.js";

async function tarOf(dir: string): Promise<Buffer> {
  const entries = listDir(dir);
  const abs = new Map(entries.map((e) => [e.path, e.abs]));
  const parts: Uint8Array[] = [];
  for await (const c of writeTar(canonicalOrder(entries), (e) => fileChunks(abs.get(e.path)!))) parts.push(c);
  return Buffer.concat(parts);
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("canonical tar (spec §10 vectors)", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it("writes the tiny vector byte for byte", async () => {
    const dir = `${tmp.dir}/tiny`;
    writeFiles(dir, { "README.md": "hello\n" });
    const tar = await tarOf(dir);
    expect(tar.length).toBe(1024);
    expect(sha256(tar)).toBe("55032184db43becefb95b9fde06e27b2cc7aaa7acea499c1da0e6bc331e266b3");
    expect(await treeHashOfTar(once(tar), PACKAGE_RULES)).toBe("853694aae8816094a0d875fee7ea26278dbf5d0f");
  });

  // The spec does not give every file's bytes (pkg/Project.toml's uuid), so git is the oracle
  // for the hashes and GNU tar for the layout; the entry list is the spec's.
  it("writes the spec tree as Tar.create does; both hash rules agree with git", async () => {
    const dir = `${tmp.dir}/spec`;
    writeSpecTree(dir);
    const tar = await tarOf(dir);
    expect(tar.length).toBe(18432);
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    const gitTree = git(dir, "write-tree");
    expect(await treeHashOfTar(once(tar), PACKAGE_RULES)).toBe(gitTree);
    // git mktree with the empty directories put back is the skip_empty=false hash
    const mk = (lines: string[]) => execFileSync("git", ["mktree"], { cwd: dir, input: lines.map((l) => `${l}\n`).join(""), encoding: "utf8" }).trim();
    const empty = mk([]);
    const e1 = mk([`040000 tree ${mk([`040000 tree ${empty}\te2`])}\te1`]);
    const root = git(dir, "ls-tree", gitTree).split("\n");
    const full = mk([...root, `040000 tree ${empty}\tempty`, `040000 tree ${e1}\tdeep`]);
    expect(await treeHashOfTar(once(tar), REGISTRY_RULES)).toBe(full);
    const listing = execFileSync("tar", ["-tvf", "-"], { input: tar, encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f.slice(5).join(" ")}`;
      });
    expect(listing).toEqual([
      "-rw-r--r-- README.md", "drwxr-xr-x a", "-rw-r--r-- a/x", "-rw-r--r-- a.b",
      "drwxr-xr-x bin", "-rw-r--r-- bin/groupx", "-rwxr-xr-x bin/ownerx", "-rwxr-xr-x bin/run.sh",
      "drwxr-xr-x deep", "drwxr-xr-x deep/e1", "drwxr-xr-x deep/e1/e2", "drwxr-xr-x empty",
      "lrwxr-xr-x link -> src/Foo.jl", "drwxr-xr-x nested", "drwxr-xr-x nested/a", "drwxr-xr-x nested/a/b",
      "-rw-r--r-- nested/a/b/c.txt", "drwxr-xr-x onlylink", "lrwxr-xr-x onlylink/l -> ../README.md",
      "drwxr-xr-x pkg", "-rw-r--r-- pkg/Project.toml", "drwxr-xr-x pkg/src", "-rw-r--r-- pkg/src/Foo.jl",
      "drwxr-xr-x src", "-rw-r--r-- src/Foo.jl", "lrwxr-xr-x srclink -> src",
    ]);
  });

  it("orders entries depth-first by name bytes, directories first", () => {
    const order = canonicalOrder([
      { type: "file", path: "a.b", executable: false, size: 0 },
      { type: "file", path: "a/x", executable: false, size: 0 },
      { type: "file", path: "README.md", executable: false, size: 0 },
    ] satisfies CanonicalEntry[]).map((e) => e.path);
    expect(order).toEqual(["README.md", "a", "a/x", "a.b"]);
  });

  it("orders thousands of generated paths as a component-by-component byte comparison would", () => {
    // The oracle: Tar.create's order spelled out directly (split, compare each name's bytes).
    const byComponents = (a: string, b: string): number => {
      const pa = a.split("/");
      const pb = b.split("/");
      for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
        const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
        if (c !== 0) return c;
      }
      return pa.length - pb.length;
    };
    const names = ["a", "a.b", "a-b", "ab", "A", "é", "日本", "z~", "a b", "0", "\u{1F600}"];
    const paths = new Set<string>();
    let x = 7;
    for (let i = 0; i < 3000; i++) {
      const depth = 1 + (i % 4);
      const parts: string[] = [];
      for (let d = 0; d < depth; d++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        parts.push(names[x % names.length]! + (x % 3 === 0 ? String(x % 17) : ""));
      }
      paths.add(parts.join("/"));
    }
    // Files only at leaves: a path that is a prefix directory of another is left out.
    const files = [...paths].filter((p) => ![...paths].some((q) => q.startsWith(`${p}/`)));
    const order = canonicalOrder(files.map((path) => ({ type: "file", path, executable: false, size: 0 }) satisfies CanonicalEntry)).map((e) => e.path);
    const expected = [...new Set([...files, ...files.flatMap((f) => f.split("/").slice(1).map((_, i, a) => f.split("/").slice(0, i + 1).join("/")))])].sort(byComponents);
    expect(order).toEqual(expected);
  });

  it("a tree of only empty directories: 207d4a41… without skipping, the empty tree with", async () => {
    const parts: Uint8Array[] = [];
    for await (const c of writeTar(canonicalOrder([{ type: "directory", path: "x/y" }]), () => once(new Uint8Array()))) parts.push(c);
    const tar = Buffer.concat(parts);
    expect(await treeHashOfTar(once(tar), REGISTRY_RULES)).toBe("207d4a41681bf017894b4e24a84cc58dd48a254a");
    expect(await treeHashOfTar(once(tar), PACKAGE_RULES)).toBe("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
  });

  it("an empty tree is the single entry '.' and hashes to the empty tree", async () => {
    const parts: Uint8Array[] = [];
    for await (const c of writeTar([], () => once(new Uint8Array()))) parts.push(c);
    const tar = Buffer.concat(parts);
    expect(tar.length).toBe(512);
    expect(await treeHashOfTar(once(tar), REGISTRY_RULES)).toBe("4b825dc642cb6eb9a060e54bf8d69288fbee4904");
  });
});
