// Julia publisher figures (issue 2):
// 1. package tarball build throughput vs `git archive <tree> | gzip` on the same tree;
// 2. a 5,000-package registry published from scratch, then one new version incrementally;
// 3. peak RSS while building (and verifying) a package holding a 200 MB file.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { build } from "esbuild";
import { GitRepository } from "../src/git/repository.js";
import { buildTreeTarball, verifyTarball } from "../src/publish/julia-tarball.js";
import { publishJuliaRegistry } from "../src/publish/julia-publish.js";
import { PACKAGE_RULES } from "../src/julia/tree-model.js";
import { FsStore } from "../src/store/fs-store.js";
import type { Store } from "../src/store/store.js";
import { benchDir, git, median, report, timed } from "./util.js";

/** A store wrapper that counts writes (the figure the issue asks for). */
function counting(store: Store): Store & { puts: number } {
  const c = Object.create(store) as Store & { puts: number };
  c.puts = 0;
  c.put = async (...args: Parameters<Store["put"]>) => {
    c.puts++;
    return store.put(...args);
  };
  return c;
}

function pseudoText(seed: number, bytes: number): string {
  const words = ["function", "end", "module", "return", "struct", "const", "using", "export", "if", "else", "for", "in"];
  let out = "";
  let x = seed;
  while (out.length < bytes) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += words[x % words.length] + (x % 7 === 0 ? "\n" : " ");
  }
  return out;
}

async function throughput(root: string): Promise<void> {
  const repo = path.join(root, "big");
  mkdirSync(repo);
  git(repo, "init", "-q");
  let total = 0;
  for (let i = 0; i < 1500; i++) {
    const file = path.join(repo, `src/dir${i % 40}/file${i}.jl`);
    mkdirSync(path.dirname(file), { recursive: true });
    const text = pseudoText(i, 20_000 + (i % 13) * 3000);
    total += text.length;
    writeFileSync(file, text);
  }
  const random = createHash("sha512");
  const bin = Buffer.alloc(8 << 20);
  for (let o = 0; o < bin.length; o += 64) random.copy().update(String(o)).digest().copy(bin, o);
  writeFileSync(path.join(repo, "data.bin"), bin);
  total += bin.length;
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "big");
  const tree = git(repo, "rev-parse", "HEAD^{tree}");
  const r = await GitRepository.open(repo);
  const ours: number[] = [];
  const oursBuildOnly: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execFileSync("sh", ["-c", `git archive ${tree} | gzip > ${root}/archive-${i}.tar.gz`], { cwd: repo });
    base.push(performance.now() - t0);
    const file = path.join(root, `ours-${i}.tar.gz`);
    const b = await timed(() => buildTreeTarball(r, tree, file));
    oursBuildOnly.push(b.ms);
    await verifyTarball(file, tree, PACKAGE_RULES);
    const checkedFile = path.join(root, `ours-checked-${i}.tar.gz`);
    ours.push((await timed(() => buildTreeTarball(r, tree, checkedFile, undefined, PACKAGE_RULES))).ms);
  }
  r.close();
  const mb = total / 2 ** 20;
  report("tree size", `${mb.toFixed(1)} MB, 1,501 files`);
  report("git archive | gzip (baseline, median of 3)", `${median(base).toFixed(0)} ms (${(mb / (median(base) / 1000)).toFixed(1)} MB/s)`);
  report("pkgpub build only (median of 3)", `${median(oursBuildOnly).toFixed(0)} ms, ratio ${(median(base) / median(oursBuildOnly)).toFixed(2)} of baseline`);
  report("pkgpub build + verify, as publish does (median of 3)", `${median(ours).toFixed(0)} ms, ratio ${(median(base) / median(ours)).toFixed(2)} of baseline (target >= 0.8)`);
}

async function bigRegistry(root: string, packages: number): Promise<void> {
  // One monorepo holds every package (as subdirectories), so setup stays fast.
  const mono = path.join(root, "mono");
  mkdirSync(mono);
  git(mono, "init", "-q");
  const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
  for (let i = 0; i < packages; i++) {
    const dir = path.join(mono, `P${i}`);
    mkdirSync(path.join(dir, "src"), { recursive: true });
    writeFileSync(path.join(dir, "Project.toml"), `name = "P${i}"\nuuid = "${uuid(i)}"\nversion = "1.0.0"\n`);
    writeFileSync(path.join(dir, "src", `P${i}.jl`), `module P${i}\nend\n`);
  }
  git(mono, "add", "-A");
  git(mono, "commit", "-q", "-m", "all packages");
  const trees = new Map<number, string>();
  for (const line of git(mono, "ls-tree", "HEAD").split("\n")) {
    const [meta, name] = line.split("\t");
    trees.set(Number(name!.slice(1)), meta!.split(" ")[2]!);
  }
  const reg = path.join(root, "registry");
  mkdirSync(reg);
  git(reg, "init", "-q");
  const lines: string[] = [];
  for (let i = 0; i < packages; i++) {
    const p = path.join(reg, `P/P${i}`);
    mkdirSync(p, { recursive: true });
    writeFileSync(path.join(p, "Package.toml"), `name = "P${i}"\nuuid = "${uuid(i)}"\nrepo = "${mono}"\nsubdir = "P${i}"\n`);
    writeFileSync(path.join(p, "Versions.toml"), `["1.0.0"]\ngit-tree-sha1 = "${trees.get(i)}"\n`);
    lines.push(`${uuid(i)} = { name = "P${i}", path = "P/P${i}" }`);
  }
  writeFileSync(path.join(reg, "Registry.toml"), `name = "Big"\nuuid = "b1b1b1b1-0000-4000-8000-000000000000"\n\n[packages]\n${lines.join("\n")}\n`);
  git(reg, "add", "-A");
  git(reg, "commit", "-q", "-m", "registry");

  const store = counting(new FsStore(path.join(root, "store")));
  const full = await timed(() => publishJuliaRegistry({ registry: reg, store }));
  report(`publish ${packages} packages from scratch`, `${(full.ms / 1000).toFixed(1)} s, ${store.puts} objects written, ${full.value.failed.length} failed`);

  // one new version of P7
  writeFileSync(path.join(mono, "P7/src/P7.jl"), "module P7\nnew() = 2\nend\n");
  writeFileSync(path.join(mono, "P7/Project.toml"), `name = "P7"\nuuid = "${uuid(7)}"\nversion = "1.1.0"\n`);
  git(mono, "commit", "-q", "-am", "P7 v1.1.0");
  const newTree = git(mono, "rev-parse", "HEAD:P7");
  writeFileSync(path.join(reg, "P/P7/Versions.toml"), `["1.0.0"]\ngit-tree-sha1 = "${trees.get(7)}"\n\n["1.1.0"]\ngit-tree-sha1 = "${newTree}"\n`);
  git(reg, "commit", "-q", "-am", "New version: P7 v1.1.0");
  store.puts = 0;
  const inc = await timed(() => publishJuliaRegistry({ registry: reg, store }));
  report("incremental publish of one new version", `${(inc.ms / 1000).toFixed(2)} s, ${store.puts} objects written (target < 3 s)`);
  store.puts = 0;
  const noop = await timed(() => publishJuliaRegistry({ registry: reg, store }));
  report("re-run with nothing new", `${(noop.ms / 1000).toFixed(2)} s, ${store.puts} objects written`);
}

async function peakMemory(root: string): Promise<void> {
  // A separate process, so its peak RSS is this build's alone.
  await build({ entryPoints: ["bench/julia-peak.ts"], outfile: "build/bench/julia-peak.mjs", bundle: true, platform: "node", target: "node20", format: "esm", packages: "external", logLevel: "warning" });
  const repo = path.join(root, "huge");
  mkdirSync(repo);
  git(repo, "init", "-q");
  // 200 MB of incompressible bytes, written in 1 MB steps
  execFileSync("sh", ["-c", `head -c 209715200 /dev/urandom > ${repo}/huge.bin && echo hi > ${repo}/README.md`]);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "huge");
  const tree = git(repo, "rev-parse", "HEAD^{tree}");
  const child = spawnSync(process.execPath, [path.resolve("build/bench/julia-peak.mjs"), repo, tree, path.join(root, "huge.tar.gz")], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(child.stderr);
  report("peak RSS building + verifying a 200 MB file", `${child.stdout.trim()} (target < 150 MB)`);
}

const tmp = benchDir("julia");
try {
  console.log("package tarball throughput");
  await throughput(tmp.dir);
  console.log("registry of 5,000 packages");
  await bigRegistry(tmp.dir, Number(process.env.BENCH_PACKAGES ?? 5000));
  console.log("memory");
  await peakMemory(tmp.dir);
} finally {
  tmp.cleanup();
}
