import { lstatSync, readdirSync, readFileSync, readlinkSync, mkdirSync, chmodSync } from "node:fs";
import path from "node:path";
import type { CanonicalEntry } from "../../src/julia/tar-writer.js";
import { writeFiles } from "../support/git-repo.js";

/** The tree of spec §10 (julia-pkg-server.md), written into dir. */
export function writeSpecTree(dir: string): void {
  writeFiles(dir, {
    "README.md": "hello\n",
    "a.b": "x\n",
    "a/x": "y\n",
    "bin/run.sh": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
    "bin/ownerx": { content: "owner exec only\n", mode: 0o744 },
    "bin/groupx": { content: "group exec only\n", mode: 0o654 },
    "src/Foo.jl": "module Foo\nend\n",
    link: { symlink: "src/Foo.jl" },
    srclink: { symlink: "src" },
    "onlylink/l": { symlink: "../README.md" },
    "nested/a/b/c.txt": "deep\n",
    "pkg/Project.toml": 'name = "Foo"\nuuid = "00000000-0000-0000-0000-000000000001"\nversion = "0.1.0"\n',
    "pkg/src/Foo.jl": "module Foo\nend\n",
  });
  mkdirSync(path.join(dir, "empty"), { recursive: true });
  mkdirSync(path.join(dir, "deep/e1/e2"), { recursive: true });
  for (const d of ["", "a", "bin", "src", "onlylink", "nested", "nested/a", "nested/a/b", "pkg", "pkg/src", "empty", "deep", "deep/e1", "deep/e1/e2"]) {
    chmodSync(path.join(dir, d), 0o755);
  }
}

/** Lists a directory as Tar.create sees it (lstat, owner-x decides). */
export function listDir(dir: string, rel = ""): Array<CanonicalEntry & { abs: string }> {
  const out: Array<CanonicalEntry & { abs: string }> = [];
  for (const name of readdirSync(path.join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const abs = path.join(dir, r);
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) out.push({ type: "symlink", path: r, target: readlinkSync(abs), abs });
    else if (st.isDirectory()) {
      out.push({ type: "directory", path: r, abs });
      out.push(...listDir(dir, r));
    } else out.push({ type: "file", path: r, executable: (st.mode & 0o100) !== 0, size: st.size, abs });
  }
  return out;
}

export async function* fileChunks(abs: string): AsyncGenerator<Uint8Array> {
  yield readFileSync(abs);
}
