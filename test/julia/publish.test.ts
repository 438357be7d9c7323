import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FsStore } from "../../src/store/fs-store.js";
import type { Store } from "../../src/store/store.js";
import { commitFiles, git, tempDir } from "../support/git-repo.js";
import { runCli } from "../support/cli.js";
import {
  BAR_UUID,
  FOO_UUID,
  REGISTRY_UUID,
  makeRegistryFixture,
  treeOfTarball,
  versionsToml,
  fooFiles,
  artifactsToml,
  makeArtifact,
  type RegistryFixture,
} from "./fixtures.js";
import { openTestStores } from "../support/stores.js";

async function readObject(store: Store, key: string): Promise<Buffer> {
  const obj = await store.get(key);
  if (!obj) throw new Error(`${key} is not in the store`);
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function keys(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list("")) if (!o.key.startsWith(".")) out.push(o.key);
  return out.sort();
}

for (const kind of ["directory", "s3"] as const) {
  describe(`julia publish into the ${kind} store`, () => {
    const tmp = tempDir();
    let fx: RegistryFixture;
    let store: Store;
    let storeSpec: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      fx = await makeRegistryFixture(tmp.dir);
      const opened = await openTestStores(kind, tmp.dir, inject("s3Env"));
      store = opened.store;
      storeSpec = opened.spec;
      env = { ...process.env, ...opened.env, PKGPUB_GIT_CACHE_DIR: path.join(tmp.dir, "cache") };
    });
    afterAll(async () => {
      await fx?.artifactServer.close();
      tmp.cleanup();
    });

    const publish = (...extra: string[]) => runCli(["julia", "publish", "--registry", fx.dir, "--store", storeSpec, ...extra], env);

    it("publishes every version, the artifact, the registry and the pointer", async () => {
      const r = await publish();
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const registryTree = git(fx.dir, "rev-parse", "HEAD^{tree}");
      expect(await keys(store)).toEqual(
        [
          "registries",
          "registries.conservative",
          `registry/${REGISTRY_UUID}/${registryTree}`,
          `package/${FOO_UUID}/${fx.fooTrees["0.1.0"]}`,
          `package/${FOO_UUID}/${fx.fooTrees["0.2.0"]}`,
          `package/${BAR_UUID}/${fx.barTree}`,
          `artifact/${fx.artifact.treeHash}`,
        ].sort(),
      );
      expect((await readObject(store, "registries")).toString()).toBe(`/registry/${REGISTRY_UUID}/${registryTree}\n`);
      // Every version is stored: the conservative flavour names this commit too.
      expect((await readObject(store, "registries.conservative")).toString()).toBe(`/registry/${REGISTRY_UUID}/${registryTree}\n`);
      expect(r.stdout).toContain("7 objects written");
    });

    it("every tarball, unpacked by GNU tar, hashes to git's own tree hash", async () => {
      const expected: Record<string, string> = {
        [`package/${FOO_UUID}/${fx.fooTrees["0.1.0"]}`]: fx.fooTrees["0.1.0"]!,
        [`package/${FOO_UUID}/${fx.fooTrees["0.2.0"]}`]: fx.fooTrees["0.2.0"]!,
        [`package/${BAR_UUID}/${fx.barTree}`]: fx.barTree,
        [`artifact/${fx.artifact.treeHash}`]: fx.artifact.treeHash,
        [`registry/${REGISTRY_UUID}/${git(fx.dir, "rev-parse", "HEAD^{tree}")}`]: git(fx.dir, "rev-parse", "HEAD^{tree}"),
      };
      for (const [key, hash] of Object.entries(expected)) {
        const into = path.join(tmp.dir, "unpacked", key.replace(/\//g, "_"));
        expect(treeOfTarball(await readObject(store, key), into), key).toBe(hash);
      }
      // the package tarball is rooted at the package: no wrapper directory; export-ignore'd and
      // export-subst files are there unchanged, symlinks are symlinks
      const into = path.join(tmp.dir, "unpacked", `package_${FOO_UUID}_${fx.fooTrees["0.2.0"]}`);
      expect(readFileSync(path.join(into, "Project.toml"), "utf8")).toContain('version = "0.2.0"');
      expect(readFileSync(path.join(into, "subst.txt"), "utf8")).toBe("$Format:%H$\n");
      expect(readFileSync(path.join(into, "ignored.txt"), "utf8")).toContain("drop");
      expect(readFileSync(path.join(into, "docs/naïve café.md"), "utf8")).toBe("non-ASCII and spaces\n");
    });

    it("a second run writes nothing, and looks at nothing: the store already publishes this tree", async () => {
      const r = await publish();
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("the store already publishes this tree");
      expect(r.stdout).toContain("0 objects written");
      expect(r.stdout).toContain("0 versions already present");
    });

    it("a second run with --full looks at every version and writes nothing", async () => {
      const r = await publish("--full");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("scanning every package (--full)");
      expect(r.stdout).toContain("0 objects written");
      expect(r.stdout).toContain("3 versions already present");
    });

    it("one new version writes its package, the registry and the pointer, nothing else", async () => {
      const v3 = commitFiles(fx.fooRepo, fooFiles("0.3.0", artifactsToml(fx.artifact, fx.artifactServer.url)), "Foo v0.3.0");
      const before = await keys(store);
      commitFiles(
        fx.dir,
        {
          "F/Foo/Versions.toml": versionsToml([
            { version: "0.1.0", tree: fx.fooTrees["0.1.0"]!, yanked: true },
            { version: "0.2.0", tree: fx.fooTrees["0.2.0"]! },
            { version: "0.3.0", tree: v3.tree },
          ]),
        },
        "New version: Foo v0.3.0",
      );
      const r = await publish();
      expect(r.code).toBe(0);
      const registryTree = git(fx.dir, "rev-parse", "HEAD^{tree}");
      const added = (await keys(store)).filter((k) => !before.includes(k));
      expect(added.sort()).toEqual([`package/${FOO_UUID}/${v3.tree}`, `registry/${REGISTRY_UUID}/${registryTree}`].sort());
      expect(r.stdout).toContain("4 objects written"); // the two above, plus registries and registries.conservative
      expect((await readObject(store, "registries")).toString()).toBe(`/registry/${REGISTRY_UUID}/${registryTree}\n`);
    });

    it("publishing an older commit does not move the pointer back", async () => {
      const head = git(fx.dir, "rev-parse", "HEAD");
      const r = await publish("--commit", `${head}~1`);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("left at a newer commit");
      expect((await readObject(store, "registries")).toString()).toBe(`/registry/${REGISTRY_UUID}/${git(fx.dir, "rev-parse", "HEAD^{tree}")}\n`);
    });
  });
}

describe("julia publish: bad input", () => {
  const tmp = tempDir();
  let fx: RegistryFixture;
  let store: FsStore;
  let storeDir: string;
  let env: NodeJS.ProcessEnv;
  let goodRegistries: string;

  beforeAll(async () => {
    fx = await makeRegistryFixture(tmp.dir);
    storeDir = path.join(tmp.dir, "store");
    store = new FsStore(storeDir);
    env = { ...process.env, PKGPUB_GIT_CACHE_DIR: path.join(tmp.dir, "cache") };
    const r = await runCli(["julia", "publish", "--registry", fx.dir, "--store", storeDir], env);
    expect(r.code).toBe(0);
    goodRegistries = (await readObject(store, "registries")).toString();
  });
  afterAll(async () => {
    await fx?.artifactServer.close();
    tmp.cleanup();
  });

  const publish = () => runCli(["julia", "publish", "--registry", fx.dir, "--store", storeDir], env);
  const stillServing = async () => expect((await readObject(store, "registries")).toString()).toBe(goodRegistries);
  const restore = () => {
    git(fx.dir, "reset", "-q", "--hard", "HEAD~1");
  };

  it("unparsable TOML: the error names the file and line; nothing moves", async () => {
    commitFiles(fx.dir, { "Registry.toml": 'name = "TestRegistry"\nuuid = "x"\n[packages\n' }, "broken");
    const r = await publish();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Registry\.toml:3: invalid TOML/);
    await stillServing();
    restore();
  });

  it("an invalid UUID is refused, naming the field", async () => {
    commitFiles(fx.dir, { "Registry.toml": readFileSync(path.join(fx.dir, "Registry.toml"), "utf8").replace(REGISTRY_UUID, "not-a-uuid") }, "bad uuid");
    const r = await publish();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Registry.toml: uuid "not-a-uuid" is not a UUID');
    await stillServing();
    restore();
  });

  it("a Versions.toml hash that is not in the package repo fails that version only", async () => {
    const missing = "0123456789abcdef0123456789abcdef01234567";
    commitFiles(
      fx.dir,
      { "B/Bar/Versions.toml": versionsToml([{ version: "1.0.0", tree: fx.barTree }, { version: "1.1.0", tree: missing }]) },
      "New version: Bar v1.1.0",
    );
    const r = await publish();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`failed: Bar v1.1.0: tree ${missing} is not in`);
    // the rest is published: the eager registry moved on
    expect((await readObject(store, "registries")).toString()).toBe(`/registry/${REGISTRY_UUID}/${git(fx.dir, "rev-parse", "HEAD^{tree}")}\n`);
    // but conservative clients never see the version that failed
    expect(r.stdout).toContain("registries.conservative held back");
    expect((await readObject(store, "registries.conservative")).toString()).toBe(goodRegistries);

    // A later commit that does not touch Bar: the incremental publish compares against the
    // eager tree (which already named the broken version) and sees nothing wrong, yet the
    // conservative pointer checks from the tree it names, and stays.
    commitFiles(fx.dir, { "README.md": "unrelated\n" }, "docs");
    const unrelated = await publish();
    expect(unrelated.code).toBe(0);
    expect(unrelated.stdout).toContain("registries.conservative held back");
    expect((await readObject(store, "registries.conservative")).toString()).toBe(goodRegistries);

    // Once no version is broken, it moves to the newest commit.
    commitFiles(fx.dir, { "B/Bar/Versions.toml": versionsToml([{ version: "1.0.0", tree: fx.barTree }]), "README.md": "fixed\n" }, "Yank Bar v1.1.0");
    const fixed = await publish();
    expect(fixed.stderr).toBe("");
    expect(fixed.code).toBe(0);
    const head = `/registry/${REGISTRY_UUID}/${git(fx.dir, "rev-parse", "HEAD^{tree}")}\n`;
    expect((await readObject(store, "registries")).toString()).toBe(head);
    expect((await readObject(store, "registries.conservative")).toString()).toBe(head);
  });

  it("an unreachable package repository fails its versions with the reason", async () => {
    commitFiles(
      fx.dir,
      {
        "B/Bar/Package.toml": `name = "Bar"\nuuid = "${BAR_UUID}"\nrepo = "http://127.0.0.1:9/nowhere.git"\n`,
        "B/Bar/Versions.toml": versionsToml([{ version: "1.0.0", tree: fx.barTree }, { version: "1.2.0", tree: "1111111111111111111111111111111111111111" }]),
      },
      "Bar moved",
    );
    const r = await publish();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: Bar v1\.2\.0: cannot clone http:\/\/127\.0\.0\.1:9\/nowhere\.git/);
  });

  it("an artifact whose sha256 or tree hash is wrong fails the version, and its package is not stored", async () => {
    // a new artifact (one already stored is not downloaded again)
    const other = makeArtifact(path.join(tmp.dir, "artifacts"), "libother", { "lib/other.so": "other" });
    const badSha = artifactsToml({ ...other, name: "libdemo", sha256: "0".repeat(64) }, fx.artifactServer.url);
    const badTree = artifactsToml({ ...fx.artifact, treeHash: "2".repeat(40) }, fx.artifactServer.url);
    const a = commitFiles(fx.fooRepo, fooFiles("0.4.0", badSha), "Foo v0.4.0");
    const b = commitFiles(fx.fooRepo, fooFiles("0.5.0", badTree), "Foo v0.5.0");
    commitFiles(
      fx.dir,
      {
        "F/Foo/Versions.toml": versionsToml([
          { version: "0.2.0", tree: fx.fooTrees["0.2.0"]! },
          { version: "0.4.0", tree: a.tree },
          { version: "0.5.0", tree: b.tree },
        ]),
      },
      "Foo v0.4.0 and v0.5.0",
    );
    const r = await publish();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: Foo v0\.4\.0: artifact libdemo .*the download.s sha256 does not match the declared 0{64}/);
    expect(r.stderr).toMatch(/failed: Foo v0\.5\.0: artifact libdemo .*unpacked tree hash [0-9a-f]{40} does not match git-tree-sha1 2{40}/);
    expect(await store.head(`package/${FOO_UUID}/${a.tree}`)).toBeNull();
    expect(await store.head(`package/${FOO_UUID}/${b.tree}`)).toBeNull();
  });
});

describe("julia publish with remote repositories only (as the App runs it)", () => {
  const tmp = tempDir();
  let fx: RegistryFixture;
  afterAll(async () => {
    await fx?.artifactServer.close();
    tmp.cleanup();
  });

  it("refuses a Package.toml whose repo is a path on the publishing machine", async () => {
    fx = await makeRegistryFixture(tmp.dir);
    const { publishJuliaRegistry } = await import("../../src/publish/julia-publish.js");
    const report = await publishJuliaRegistry({
      registry: fx.dir,
      store: new FsStore(path.join(tmp.dir, "store")),
      remoteRepositoriesOnly: true,
      cacheDir: path.join(tmp.dir, "cache"),
    });
    expect(report.failed.map((f) => `${f.package} v${f.version}: ${f.reason}`).sort()).toEqual([
      `Bar v1.0.0: repo "file://${fx.monoRepo}" is a local path; only git URLs are allowed here`,
      `Foo v0.1.0: repo "${fx.fooRepo}" is a local path; only git URLs are allowed here`,
      `Foo v0.2.0: repo "${fx.fooRepo}" is a local path; only git URLs are allowed here`,
    ]);
  });
});
