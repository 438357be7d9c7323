// Incremental Julia publish (issue 12 item 4): one new version into a registry of 500 and of
// 20,000 packages, on the directory store and on the S3 test server. The cost apart from the
// registry tarball should not grow with the registry (target: 20,000 within 1.2x of 500); the
// registry tarball, the one cost that does, is built and stored alone just before each publish
// (which then finds it stored) and shown apart.
// The baseline is the same publish into the 500-package registry.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { GitRepository } from "../src/git/repository.js";
import { publishJuliaRegistry } from "../src/publish/julia-publish.js";
import { buildTreeTarball } from "../src/publish/julia-tarball.js";
import { REGISTRY_RULES } from "../src/julia/tree-model.js";
import { putOnce } from "../src/store/put-once.js";
import { FsStore } from "../src/store/fs-store.js";
import { ensureBucket, S3Store } from "../src/store/s3-store.js";
import type { Store } from "../src/store/store.js";
import { CountingStore } from "./counting-store.js";
import { startBenchS3 } from "./s3-server.js";
import { benchDir, GIT_ENV, git, median, report, timed } from "./util.js";

const SIZES = [500, 20_000];
const ROUNDS = 3;
const REGISTRY_UUID = "b1b1b1b1-0000-4000-8000-000000000000";
/**
 * Where package i sits in the registry: spread over 26 directories, as General spreads its
 * packages over their first letters (one directory of 20,000 would make git compare two
 * 20,000-entry trees for any change: about 30 ms, a layout no real registry has).
 */
const dirOf = (i: number) => `${String.fromCharCode(65 + (i % 26))}/P${i}`;
const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;

function fastImport(dir: string, files: Array<[string, string]>, message: string): void {
  const out = ["commit refs/heads/main", "committer bench <bench@pkgpub.invalid> 0 +0000", `data ${message.length}`, message];
  for (const [p, text] of files) out.push(`M 100644 inline ${p}`, `data ${Buffer.byteLength(text)}`, text);
  execFileSync("git", ["fast-import", "--quiet"], { cwd: dir, env: GIT_ENV, input: `${out.join("\n")}\n`, maxBuffer: 1 << 30 });
  git(dir, "checkout", "-q", "-f", "main");
}

/** One monorepo holding every package (a subdirectory each) and a registry naming them. */
function makeRegistry(root: string, packages: number): { mono: string; reg: string } {
  const mono = path.join(root, "mono");
  const reg = path.join(root, "registry");
  git(root, "init", "-q", "-b", "main", mono);
  git(root, "init", "-q", "-b", "main", reg);
  const files: Array<[string, string]> = [];
  for (let i = 0; i < packages; i++) {
    files.push([`P${i}/Project.toml`, `name = "P${i}"\nuuid = "${uuid(i)}"\nversion = "1.0.0"\n`], [`P${i}/src/P${i}.jl`, `module P${i}\nend\n`]);
  }
  fastImport(mono, files, "all packages");
  const trees = new Map<number, string>();
  for (const line of git(mono, "ls-tree", "HEAD").split("\n")) {
    const [meta, name] = line.split("\t");
    trees.set(Number(name!.slice(1)), meta!.split(" ")[2]!);
  }
  const regFiles: Array<[string, string]> = [];
  const lines: string[] = [];
  for (let i = 0; i < packages; i++) {
    regFiles.push(
      [`${dirOf(i)}/Package.toml`, `name = "P${i}"\nuuid = "${uuid(i)}"\nrepo = "${mono}"\nsubdir = "P${i}"\n`],
      [`${dirOf(i)}/Versions.toml`, `["1.0.0"]\ngit-tree-sha1 = "${trees.get(i)}"\n`],
    );
    lines.push(`${uuid(i)} = { name = "P${i}", path = "${dirOf(i)}" }`);
  }
  regFiles.push(["Registry.toml", `name = "Big"\nuuid = "${REGISTRY_UUID}"\n\n[packages]\n${lines.join("\n")}\n`]);
  fastImport(reg, regFiles, "registry");
  return { mono, reg };
}

/** A new version of P7 (1.<round>.0) in the monorepo, registered by a new registry commit. */
function newVersion(mono: string, reg: string, round: number): void {
  writeFileSync(path.join(mono, "P7/src/P7.jl"), `module P7\nround() = ${round}\nend\n`);
  writeFileSync(path.join(mono, "P7/Project.toml"), `name = "P7"\nuuid = "${uuid(7)}"\nversion = "1.${round}.0"\n`);
  git(mono, "commit", "-q", "-am", `P7 v1.${round}.0`);
  // Every earlier version stays, each with the tree it had: HEAD~(round - r) is version 1.r.0.
  const versions = Array.from({ length: round + 1 }, (_, r) => `["1.${r}.0"]\ngit-tree-sha1 = "${git(mono, "rev-parse", `HEAD~${round - r}:P7`)}"\n`);
  writeFileSync(path.join(reg, dirOf(7), "Versions.toml"), versions.join("\n"));
  git(reg, "commit", "-q", "-am", `New version: P7 v1.${round}.0`);
}

/**
 * The first publish's objects written into another store, less the package tarballs of packages
 * other than P7: the incremental publish never reads those (that is what is measured; the
 * directory store, which has them all, would show a publish that did), and 20,000 small PUTs
 * to the loopback Swift server take minutes.
 */
async function copyStore(from: Store, to: Store): Promise<number> {
  const keys: string[] = [];
  for await (const o of from.list("")) if (!o.key.startsWith("package/") || o.key.startsWith(`package/${uuid(7)}/`)) keys.push(o.key);
  const queue = [...keys];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let k = queue.shift(); k; k = queue.shift()) {
        const obj = (await from.get(k))!;
        const chunks: Buffer[] = [];
        for await (const c of obj.body) chunks.push(c as Buffer);
        await to.put(k, Buffer.concat(chunks));
      }
    }),
  );
  return keys.length;
}

interface Figures {
  total: number;
  tarball: number;
  rest: number;
  line: string;
}

const tmp = benchDir("julia-incremental");
const s3 = startBenchS3(tmp.dir);
try {
  const results = new Map<string, Figures>();
  for (const packages of SIZES) {
    const root = path.join(tmp.dir, `r${packages}`);
    mkdirSync(root, { recursive: true });
    const { mono, reg } = makeRegistry(root, packages);
    console.log(`registry of ${packages.toLocaleString("en")} packages`);
    const dirStore = new FsStore(path.join(root, "store"));
    const full = await timed(() => publishJuliaRegistry({ registry: reg, store: dirStore }));
    if (full.value.failed.length > 0) throw new Error(`first publish failed: ${full.value.failed[0]!.reason}`);
    report("first publish, directory store (setup)", `${(full.ms / 1000).toFixed(1)} s, ${full.value.built.length} objects`);
    const bucket = `pkgpub-bench-inc-${randomBytes(3).toString("hex")}`;
    await ensureBucket(`s3://${bucket}`, s3.env);
    const s3Store = S3Store.fromUrl(`s3://${bucket}/store`, s3.env);
    const copied = await timed(() => copyStore(dirStore, s3Store));
    report("to the S3 test server: pointers, registry and P7 (setup)", `${copied.value} objects, ${(copied.ms / 1000).toFixed(1)} s`);

    const stores: Array<[string, CountingStore]> = [
      ["directory", new CountingStore(dirStore)],
      ["S3", new CountingStore(s3Store)],
    ];
    const runs = new Map<string, { rest: number[]; tarball: number[]; counts: string }>(stores.map(([n]) => [n, { rest: [], tarball: [], counts: "" }]));
    const registry = await GitRepository.open(reg);
    for (let round = 1; round <= ROUNDS; round++) {
      newVersion(mono, reg, round);
      const tree = await registry.treeOf(await registry.resolveCommit("main"));
      for (const [name, store] of stores) {
        // The registry tarball first, built and stored alone under its own key, exactly as the
        // publish would (it skips a tarball already stored): the publish's time is then all the
        // rest, measured directly rather than as a difference of two noisy seconds.
        const file = path.join(root, `reg-${name}-${round}.tar.gz`);
        const built = await timed(() => buildTreeTarball(registry, tree, file, undefined, REGISTRY_RULES));
        const stored = await timed(() => putOnce(store.inner, `registry/${REGISTRY_UUID}/${tree}`, { path: file }, { contentType: "application/x-gzip" }));
        store.reset();
        const inc = await timed(() => publishJuliaRegistry({ registry: reg, store }));
        const r = inc.value;
        if (r.failed.length > 0 || r.scan.mode !== "incremental") throw new Error(`${name}: ${r.scan.mode} publish, ${r.failed.length} failed`);
        const run = runs.get(name)!;
        run.rest.push(inc.ms);
        run.tarball.push(built.ms + stored.ms);
        run.counts = `${r.scan.packages} package dirs read, ${r.scan.gitObjects} git objects, ${r.scan.gitCommands} git commands; store ${store.reads} reads, ${store.writes} writes, ${store.lists} listings (${store.listed} keys)`;
      }
    }
    registry.close();
    for (const [name, run] of runs) {
      const rest = median(run.rest);
      const tarball = median(run.tarball);
      const f = { total: rest + tarball, tarball, rest, line: run.counts };
      results.set(`${name} ${packages}`, f);
      report(`${name}: one new version (median of ${ROUNDS})`, `${rest.toFixed(0)} ms + the registry tarball (built and stored) ${tarball.toFixed(0)} ms`);
      report(`${name}: what it touched`, f.line);
    }
  }
  console.log(`cost apart from the registry tarball, ${SIZES[1]!.toLocaleString("en")} vs ${SIZES[0]!.toLocaleString("en")} packages (target <= 1.2)`);
  for (const name of ["directory", "S3"]) {
    const small = results.get(`${name} ${SIZES[0]}`)!;
    const big = results.get(`${name} ${SIZES[1]}`)!;
    report(`${name}: ${big.rest.toFixed(0)} ms vs ${small.rest.toFixed(0)} ms`, `x${(big.rest / small.rest).toFixed(2)}`);
  }
} finally {
  s3.stop();
  tmp.cleanup();
}
