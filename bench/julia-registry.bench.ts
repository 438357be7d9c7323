// The Julia registry tarball, the one publish cost that grows with the registry (issue 12
// item 5): built from git objects and verified by its tree hash, at 5,000 and 20,000 packages,
// by stage (tree listing, blob reads + tar + gzip, the verification tail) and by gzip level
// (Pkg checks the tree hash, not the compressed bytes, so the level is free to choose).
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { GitRepository } from "../src/git/repository.js";
import { buildTreeTarball, verifyTarball } from "../src/publish/julia-tarball.js";
import { REGISTRY_GZIP_LEVEL } from "../src/publish/gzip-file.js";
import { REGISTRY_RULES } from "../src/julia/tree-model.js";
import { benchDir, GIT_ENV, git, median, report, timed } from "./util.js";

const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
const sha = (i: number, v: number) => ((i * 2654435761 + v * 40503) >>> 0).toString(16).padStart(8, "0").repeat(5);

/** A registry shaped like General: Package/Versions/Deps/Compat.toml per package, a few versions each. */
function makeRegistry(dir: string, packages: number): string {
  git(path.dirname(dir), "init", "-q", dir);
  const out: string[] = ["commit refs/heads/main", "committer bench <bench@pkgpub.invalid> 0 +0000", "data 8", "registry"];
  const file = (p: string, text: string) => out.push(`M 100644 inline ${p}`, `data ${Buffer.byteLength(text)}`, text);
  const lines: string[] = [];
  for (let i = 0; i < packages; i++) {
    const name = `Package${i}`;
    const p = `${name[0]}/${name}`;
    lines.push(`${uuid(i)} = { name = "${name}", path = "${p}" }`);
    file(`${p}/Package.toml`, `name = "${name}"\nuuid = "${uuid(i)}"\nrepo = "https://github.com/acme/${name}.jl.git"\n`);
    const versions = 1 + (i % 8);
    let v = "";
    for (let k = 0; k < versions; k++) v += `["0.${k}.0"]\ngit-tree-sha1 = "${sha(i, k)}"\n\n`;
    file(`${p}/Versions.toml`, v);
    file(`${p}/Deps.toml`, `[0]\nLinearAlgebra = "37e2e46d-f89d-539d-b4ee-838fcccc9c8e"\nPackage${(i + 1) % packages} = "${uuid((i + 1) % packages)}"\n`);
    file(`${p}/Compat.toml`, `[0]\njulia = "1.6.0-1"\nPackage${(i + 1) % packages} = "0.1-0.${versions}"\n`);
  }
  file("Registry.toml", `name = "Big"\nuuid = "b1b1b1b1-0000-4000-8000-000000000000"\n\n[packages]\n${lines.join("\n")}\n`);
  execFileSync("git", ["fast-import", "--quiet"], { cwd: dir, env: GIT_ENV, input: `${out.join("\n")}\n`, maxBuffer: 1 << 30 });
  return git(dir, "rev-parse", "main^{tree}");
}

const tmp = benchDir("julia-registry");
try {
  for (const packages of [5_000, 20_000]) {
    const dir = path.join(tmp.dir, `reg-${packages}`);
    const tree = makeRegistry(dir, packages);
    const repo = await GitRepository.open(dir);
    const listing = await timed(() => repo.lsTree(tree));
    console.log(`registry of ${packages.toLocaleString("en")} packages (${listing.value.length.toLocaleString("en")} tree entries)`);
    report("tree listing (git ls-tree -r -l)", `${listing.ms.toFixed(0)} ms`);
    let n = 0;
    for (const level of [...new Set([REGISTRY_GZIP_LEVEL, 6, 4, 1])]) {
      const build: number[] = [];
      const checked: number[] = [];
      let size = 0;
      for (let round = 0; round < 3; round++) {
        const f = path.join(tmp.dir, `b-${packages}-${n++}.tar.gz`);
        build.push((await timed(() => buildTreeTarball(repo, tree, f, listing.value, undefined, level))).ms);
        size = statSync(f).size;
        const c = path.join(tmp.dir, `c-${packages}-${n++}.tar.gz`);
        checked.push((await timed(() => buildTreeTarball(repo, tree, c, listing.value, REGISTRY_RULES, level))).ms);
        await verifyTarball(c, tree, REGISTRY_RULES);
      }
      const label = level === REGISTRY_GZIP_LEVEL ? `gzip ${level} (what publish uses)` : `gzip ${level}`;
      report(`${label}: build / build + verify (median of 3)`, `${median(build).toFixed(0)} ms / ${median(checked).toFixed(0)} ms, ${(size / 1e6).toFixed(2)} MB`);
    }
    repo.close();
  }
} finally {
  tmp.cleanup();
}
