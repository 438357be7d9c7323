// Incremental julia publish (issue 12, item 4): a publish over a store that already serves an
// older tree of the registry reads only the changed packages' files from git and asks the store
// only about those packages; --full looks at everything again and repairs a lost object.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { publishJuliaRegistry, type JuliaPublishReport } from "../../src/publish/julia-publish.js";
import { verifyJuliaStore } from "../../src/publish/julia-verify.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { FaultyStore } from "../support/faulty-store.js";
import { commitFiles, git, makeRepo, tempDir } from "../support/git-repo.js";
import { openTestStores } from "../support/stores.js";
import { registryToml, REGISTRY_UUID, versionsToml } from "./fixtures.js";

const N = 24;
const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-00000000000c`;
const name = (i: number) => `P${i}`;
const dirOf = (i: number) => `P/P${i}`;

interface World {
  registry: string;
  mono: string;
  /** Tree of each package's versions, by package index. */
  trees: Map<number, string[]>;
}

/** A monorepo of N one-version packages and a registry that lists them. */
function makeWorld(root: string): World {
  const mono = path.join(root, "mono");
  const files: Record<string, string> = {};
  for (let i = 0; i < N; i++) {
    files[`${name(i)}/Project.toml`] = `name = "${name(i)}"\nuuid = "${uuid(i)}"\nversion = "1.0.0"\n`;
    files[`${name(i)}/src/${name(i)}.jl`] = `module ${name(i)}\nend\n`;
  }
  makeRepo(mono, files);
  const trees = new Map<number, string[]>();
  for (let i = 0; i < N; i++) trees.set(i, [git(mono, "rev-parse", `HEAD:${name(i)}`)]);
  const registry = path.join(root, "registry");
  const reg: Record<string, string> = {
    "Registry.toml": registryToml(Array.from({ length: N }, (_, i) => ({ uuid: uuid(i), name: name(i), path: dirOf(i) }))),
    ".ci/check.sh": "echo not a package\n",
  };
  for (let i = 0; i < N; i++) Object.assign(reg, packageFiles(i, mono, trees.get(i)!));
  makeRepo(registry, reg);
  return { registry, mono, trees };
}

function packageFiles(i: number, mono: string, trees: string[]): Record<string, string> {
  return {
    [`${dirOf(i)}/Package.toml`]: `name = "${name(i)}"\nuuid = "${uuid(i)}"\nrepo = "${mono}"\nsubdir = "${name(i)}"\n`,
    [`${dirOf(i)}/Versions.toml`]: versionsToml(trees.map((tree, v) => ({ version: `1.${v}.0`, tree }))),
    [`${dirOf(i)}/Deps.toml`]: "",
  };
}

/** A new version of package i: a commit in the monorepo, then its registry entry. */
function newVersion(w: World, i: number): string {
  const v = w.trees.get(i)!.length;
  const c = commitFiles(w.mono, { [`${name(i)}/src/${name(i)}.jl`]: `module ${name(i)}\nv() = ${v}\nend\n`, [`${name(i)}/Project.toml`]: `name = "${name(i)}"\nuuid = "${uuid(i)}"\nversion = "1.${v}.0"\n` }, `${name(i)} v1.${v}.0`);
  const tree = git(w.mono, "rev-parse", `${c.commit}:${name(i)}`);
  w.trees.get(i)!.push(tree);
  commitFiles(w.registry, packageFiles(i, w.mono, w.trees.get(i)!), `New version: ${name(i)} v1.${v}.0`);
  return tree;
}

for (const kind of ["directory", "s3"] as const) {
  describe(`incremental julia publish (${kind} store)`, () => {
    const tmp = tempDir("pkgpub-incr-");
    let w: World;
    let store: Store;
    let spec: string;
    let env: NodeJS.ProcessEnv;
    /** A counting wrapper around the real store (no fault injected): it records every call. */
    let counted: FaultyStore;
    const publish = (options: { full?: boolean; force?: boolean } = {}): Promise<JuliaPublishReport> => {
      counted = new FaultyStore(store);
      // Artifacts come from a loopback server, refused by default: allowed here.
      return publishJuliaRegistry({ registry: w.registry, store: counted, cacheDir: path.join(tmp.dir, "cache"), limits: { network: { publicOnly: false, allowHosts: [], redirectHosts: [] } }, ...options });
    };

    beforeAll(async () => {
      w = makeWorld(tmp.dir);
      const opened = await openTestStores(kind, tmp.dir, inject("s3Env"));
      store = opened.store;
      spec = opened.spec;
      env = { ...process.env, ...opened.env, PKGPUB_GIT_CACHE_DIR: path.join(tmp.dir, "cache") };
    });
    afterAll(() => tmp.cleanup());

    it("a first publish scans every package: the store publishes no tree of the registry yet", async () => {
      const r = await publish();
      expect(r.failed).toEqual([]);
      expect(r.scan).toMatchObject({ mode: "full", reason: "the store publishes no tree of this registry yet", packages: N });
      expect(r.built.filter((k) => k.startsWith("package/"))).toHaveLength(N);
    });

    it("one new version: git reads Registry.toml and that package's two files; the store is asked only about that package", async () => {
      const before = git(w.registry, "rev-parse", "HEAD^{tree}");
      const tree = newVersion(w, 7);
      const r = await publish();
      expect(r.failed).toEqual([]);
      expect(r.scan).toMatchObject({ mode: "incremental", since: before, packages: 1 });
      expect(r.scan.gitObjects).toBe(3); // Registry.toml, P/P7/Package.toml, P/P7/Versions.toml
      // rev-parse is not counted here: ls-tree + cat-file for Registry.toml, cat-file -t, diff-tree, ls-tree, cat-file sequence
      expect(r.scan.gitCommands).toBeLessThanOrEqual(6);
      const registryTree = git(w.registry, "rev-parse", "HEAD^{tree}");
      expect(r.built.sort()).toEqual([`package/${uuid(7)}/${tree}`, "registries", "registries.conservative", `registry/${REGISTRY_UUID}/${registryTree}`].sort());
      expect(r.skipped).toBe(1); // P7's first version, already stored
      const lists = counted.ops.filter((op) => op.startsWith("list "));
      expect(lists).toEqual([`list package/${uuid(7)}/`]);
      // no call names another package's key
      const otherPackages = counted.ops.filter((op) => op.includes("package/") && !op.includes(uuid(7)));
      expect(otherPackages).toEqual([]);
    });

    it("--full reads every package's files and lists every package key, and writes nothing new", async () => {
      const r = await publish({ full: true });
      expect(r.scan).toMatchObject({ mode: "full", reason: "--full", packages: N });
      expect(r.scan.gitObjects).toBeGreaterThanOrEqual(2 * N + 1);
      expect(counted.ops.filter((op) => op.startsWith("list "))).toEqual(["list package/"]);
      expect(r.built).toEqual([]);
      expect(r.skipped).toBe(N + 1);
    });

    it("a change outside package directories and a new package: only the new package is looked at", async () => {
      const before = git(w.registry, "rev-parse", "HEAD^{tree}");
      const c = commitFiles(w.mono, { "Q0/Project.toml": `name = "Q0"\nuuid = "${uuid(1000)}"\nversion = "1.0.0"\n`, "Q0/src/Q0.jl": "module Q0\nend\n" }, "Q0");
      const qTree = git(w.mono, "rev-parse", `${c.commit}:Q0`);
      const entries = Array.from({ length: N }, (_, i) => ({ uuid: uuid(i), name: name(i), path: dirOf(i) }));
      commitFiles(
        w.registry,
        {
          "Registry.toml": registryToml([...entries, { uuid: uuid(1000), name: "Q0", path: "Q/Q0" }]),
          "Q/Q0/Package.toml": `name = "Q0"\nuuid = "${uuid(1000)}"\nrepo = "${w.mono}"\nsubdir = "Q0"\n`,
          "Q/Q0/Versions.toml": versionsToml([{ version: "1.0.0", tree: qTree }]),
          ".ci/check.sh": "echo changed\n",
        },
        "New package: Q0",
      );
      const r = await publish();
      expect(r.failed).toEqual([]);
      expect(r.scan.reason).toBeUndefined();
      expect(r.scan).toMatchObject({ mode: "incremental", since: before, packages: 1 });
      expect(r.scan.gitObjects).toBe(4); // the new and the old Registry.toml (same registry?), Q0's two files
      expect(r.built).toContain(`package/${uuid(1000)}/${qTree}`);
      expect(counted.ops.filter((op) => op.startsWith("list "))).toEqual([`list package/${uuid(1000)}/`]);
    });

    it("a lost object: an incremental publish does not see it, verify names it, --full rebuilds it", async () => {
      const lost = `package/${uuid(3)}/${w.trees.get(3)![0]}`;
      await store.delete(lost);
      newVersion(w, 9);
      const inc = await runCli(["julia", "publish", "--registry", w.registry, "--store", spec], env);
      expect(inc.code).toBe(0);
      expect(inc.stdout).toContain("1 packages changed since the published tree");
      expect(await store.head(lost)).toBeNull();

      const v1 = await runCli(["verify", "--store", spec], env);
      expect(v1.code).toBe(1);
      expect(v1.stderr).toContain(`problem: ${lost}: missing (P3 v1.0.0)`);

      const full = await runCli(["julia", "publish", "--registry", w.registry, "--store", spec, "--full"], env);
      expect(full.code).toBe(0);
      expect(full.stdout).toContain("scanning every package (--full)");
      expect(full.stdout).toContain(`-> ${lost}`);
      expect(await store.head(lost)).not.toBeNull();
      const v2 = await verifyJuliaStore(store);
      expect(v2.problems).toEqual([]);
    });

    it("falls back to the full scan when the published tree is not in the repository", async () => {
      const unknown = "1234567890123456789012345678901234567890";
      await store.put("registries", `/registry/${REGISTRY_UUID}/${unknown}\n`, { contentType: "text/plain" });
      const r = await publish({ force: true });
      expect(r.scan).toMatchObject({ mode: "full", reason: `the published tree ${unknown} is not in the repository`, packages: N + 1 });
      expect(r.failed).toEqual([]);
    });

    it("falls back to the full scan when the published tree is another registry's", async () => {
      // a tree in the same repository whose Registry.toml has another uuid
      const head = git(w.registry, "rev-parse", "HEAD");
      const other = commitFiles(w.registry, { "Registry.toml": registryToml([], "00000000-1111-4111-8111-000000000000") }, "another registry");
      git(w.registry, "reset", "-q", "--hard", head);
      git(w.registry, "tag", "keep-other", other.commit);
      await store.put("registries", `/registry/${REGISTRY_UUID}/${other.tree}\n`, { contentType: "text/plain" });
      const r = await publish({ force: true });
      expect(r.scan).toMatchObject({ mode: "full", reason: `the published tree ${other.tree} is not a tree of this registry` });
      expect(r.registry.pointer).toBe("moved");
    });
  });
}
