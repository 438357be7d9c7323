import { readFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { GIT_ENV, commitFiles, git, makeRepo, tempDir } from "../support/git-repo.js";

// Registry files below were written by hand from the spec's rules (§5, §6), not by our code.
const REG_UUID = "a11ce000-0000-4000-8000-000000000001";
const FOO = "f0000000-0000-4000-8000-000000000001";
const BAR = "ba400000-0000-4000-8000-000000000002";
const BAZ = "ba200000-0000-4000-8000-000000000003";
const EXAMPLE = "7876af07-990d-54b4-ab0e-23690620f79a";
const LINALG = "37e2e46d-f89d-539d-b4ee-838fcccc9c8e";
const RANDOM = "9a3f8284-a2c9-5f02-9a11-845980a1fd5c";
const PLOTS = "91a5bcdd-55d7-5caf-9e0b-520d859cae80";
const TEST = "8dfed614-e22c-5e08-85e1-65c5234f0b40";

const registryToml = (packages: string) =>
  `name = "Acme"\nuuid = "${REG_UUID}"\nrepo = "https://example.invalid/Acme.git"\ndescription = "Acme's packages"\n\n[packages]\n${packages}`;

let root: string;
let cleanup: () => void;
let registry: string;
let foo: string;

const env = { ...GIT_ENV };
const register = (...args: string[]) => runCli(["julia", "register", "--registry", registry, ...args], env);
const read = (rel: string) => readFileSync(path.join(registry, rel), "utf8");
const headCount = () => Number(git(registry, "rev-list", "--count", "HEAD"));

beforeAll(() => {
  ({ dir: root, cleanup } = tempDir("pkgpub-register-"));
  registry = makeRepo(path.join(root, "registry"), { "Registry.toml": registryToml("") }).dir;
  foo = makeRepo(path.join(root, "Foo.jl"), {
    "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.1.0"\n\n[deps]\nExample = "${EXAMPLE}"\nLinearAlgebra = "${LINALG}"\n\n[compat]\njulia = "1.6"\nExample = "0.5"\n`,
    "src/Foo.jl": "module Foo end\n",
  }).dir;
  git(foo, "remote", "add", "origin", "https://example.invalid/Foo.jl.git");
  git(foo, "tag", "v0.1.0");
});
afterAll(() => cleanup());

describe("pkgpub julia register", () => {
  it("registers a new package: Registry.toml, Package.toml, Versions.toml, Deps.toml, Compat.toml", async () => {
    const r = await register("--package", foo, "--ref", "v0.1.0");
    expect(r.stderr).toContain("New package: Foo v0.1.0");
    expect(r.code).toBe(0);
    const tree = git(foo, "rev-parse", "v0.1.0^{tree}");
    expect(read("Registry.toml")).toBe(registryToml(`${FOO} = { name = "Foo", path = "F/Foo" }\n`));
    expect(read("F/Foo/Package.toml")).toBe(`name = "Foo"\nuuid = "${FOO}"\nrepo = "https://example.invalid/Foo.jl.git"\n`);
    expect(read("F/Foo/Versions.toml")).toBe(`["0.1.0"]\ngit-tree-sha1 = "${tree}"\n`);
    expect(read("F/Foo/Deps.toml")).toBe(`[0]\nExample = "${EXAMPLE}"\nLinearAlgebra = "${LINALG}"\n`);
    expect(read("F/Foo/Compat.toml")).toBe(`[0]\nExample = "0.5"\njulia = "1.6.0-1"\n`);
    expect(existsSync(path.join(registry, "F/Foo/WeakDeps.toml"))).toBe(false);
    expect(git(registry, "log", "-1", "--format=%B")).toBe(`New package: Foo v0.1.0\n\nUUID: ${FOO}\nRepo: https://example.invalid/Foo.jl.git\nTree: ${tree}`);
    expect(git(registry, "status", "--porcelain")).toBe("");
  });

  it("registers a new version and recompresses the ranges against all versions", async () => {
    commitFiles(foo, {
      "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.2.0"\n\n[deps]\nExample = "${EXAMPLE}"\nRandom = "${RANDOM}"\n\n[compat]\njulia = "1.6"\nExample = "0.5, 1"\nRandom = "1"\n`,
    }, "0.2.0");
    git(foo, "tag", "-a", "-m", "release", "v0.2.0");
    const r = await register("--package", foo, "--ref", "v0.2.0");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("New version: Foo v0.2.0");
    const t1 = git(foo, "rev-parse", "v0.1.0^{tree}");
    const t2 = git(foo, "rev-parse", "v0.2.0^{tree}");
    expect(read("F/Foo/Versions.toml")).toBe(`["0.1.0"]\ngit-tree-sha1 = "${t1}"\n\n["0.2.0"]\ngit-tree-sha1 = "${t2}"\n`);
    expect(read("F/Foo/Deps.toml")).toBe(`[0]\nExample = "${EXAMPLE}"\n\n["0-0.1"]\nLinearAlgebra = "${LINALG}"\n\n["0.2-0"]\nRandom = "${RANDOM}"\n`);
    expect(read("F/Foo/Compat.toml")).toBe(`[0]\njulia = "1.6.0-1"\n\n["0-0.1"]\nExample = "0.5"\n\n["0.2-0"]\nExample = ["0.5", "1"]\nRandom = "1"\n`);
    expect(git(registry, "log", "-1", "--format=%s")).toBe("New version: Foo v0.2.0");
  });

  it("records weak deps and weak compat; drops extras-only compat", async () => {
    const bar = makeRepo(path.join(root, "Bar.jl"), {
      "Project.toml": [
        `name = "Bar"`, `uuid = "${BAR}"`, `version = "1.0.0"`, ``,
        `[deps]`, `Foo = "${FOO}"`, ``, `[weakdeps]`, `Plots = "${PLOTS}"`, ``, `[extensions]`, `BarPlotsExt = "Plots"`, ``,
        `[compat]`, `Foo = "0.2"`, `Plots = "~1.38.4"`, `Test = "1"`, `julia = ">= 1.9"`, ``,
        `[extras]`, `Test = "${TEST}"`, ``, `[targets]`, `test = ["Test"]`, ``,
      ].join("\n"),
      "src/Bar.jl": "module Bar end\n",
      "ext/BarPlotsExt.jl": "module BarPlotsExt end\n",
    }).dir;
    git(bar, "tag", "v1.0.0");
    const r = await register("--package", bar, "--ref", "v1.0.0", "--repo", "https://example.invalid/Bar.jl");
    expect(r.code).toBe(0);
    expect(read("B/Bar/Deps.toml")).toBe(`[1]\nFoo = "${FOO}"\n`);
    expect(read("B/Bar/WeakDeps.toml")).toBe(`[1]\nPlots = "${PLOTS}"\n`);
    expect(read("B/Bar/Compat.toml")).toBe(`[1]\nFoo = "0.2"\njulia = "1.9.0-*"\n`);
    expect(read("B/Bar/WeakCompat.toml")).toBe(`[1]\nPlots = "1.38.4-1.38"\n`);
    // sorted by UUID, not by name
    expect(read("Registry.toml")).toBe(registryToml(`${BAR} = { name = "Bar", path = "B/Bar" }\n${FOO} = { name = "Foo", path = "F/Foo" }\n`));
  });

  it("merges ranges across a major version as RegistryTools does: 0.4.2 … 0.x and 1.0.0 is 0.4.2-1", async () => {
    const QUUX = "9c000000-0000-4000-8000-000000000005";
    const DATES = "ade2ca70-3891-5945-98fb-dc099432e06a";
    const project = (version: string, dates: boolean) =>
      `name = "Quux"\nuuid = "${QUUX}"\nversion = "${version}"\n\n[deps]\n${dates ? `Dates = "${DATES}"\n` : ""}Example = "${EXAMPLE}"\n\n[compat]\nExample = "0.5"\njulia = "1.6"\n`;
    const quux = makeRepo(path.join(root, "Quux.jl"), { "Project.toml": project("0.4.1", false), "src/Quux.jl": "module Quux end\n" }).dir;
    git(quux, "tag", "v0.4.1");
    for (const [version, dates] of [["0.4.2", true], ["1.0.0", true]] as const) {
      commitFiles(quux, { "Project.toml": project(version, dates) }, version);
      git(quux, "tag", `v${version}`);
    }
    for (const tag of ["v0.4.1", "v0.4.2", "v1.0.0"]) {
      const r = await register("--package", quux, "--ref", tag, "--repo", "https://example.invalid/Quux.jl.git");
      expect(r.code, r.stderr).toBe(0);
    }
    // Not [0] plus [1], nor ["0.4.2-0"] plus [1]: Pkg's VersionSpec unions ranges that touch.
    expect(read("Q/Quux/Deps.toml")).toBe(`[0-1]\nExample = "${EXAMPLE}"\n\n["0.4.2-1"]\nDates = "${DATES}"\n`);
    expect(read("Q/Quux/Compat.toml")).toBe(`[0-1]\nExample = "0.5"\njulia = "1.6.0-1"\n`);
  });

  it("registers a package in a subdirectory under its <Name>-v tag, with the subdir tree's hash", async () => {
    const mono = makeRepo(path.join(root, "mono"), {
      "README.md": "several packages\n",
      "julia/Baz/Project.toml": `name = "Baz"\nuuid = "${BAZ}"\nversion = "0.0.3"\n\n[compat]\njulia = "1"\n`,
      "julia/Baz/src/Baz.jl": "module Baz end\n",
    }).dir;
    git(mono, "tag", "Baz-v0.0.3");
    const r = await register("--package", mono, "--ref", "Baz-v0.0.3", "--subdir", "julia/Baz", "--repo", "https://example.invalid/mono.git");
    expect(r.code).toBe(0);
    const subtree = git(mono, "rev-parse", "Baz-v0.0.3:julia/Baz");
    expect(read("B/Baz/Package.toml")).toBe(`name = "Baz"\nuuid = "${BAZ}"\nrepo = "https://example.invalid/mono.git"\nsubdir = "julia/Baz"\n`);
    expect(read("B/Baz/Versions.toml")).toBe(`["0.0.3"]\ngit-tree-sha1 = "${subtree}"\n`);
    expect(read("B/Baz/Deps.toml")).toBe("");
    expect(read("B/Baz/Compat.toml")).toBe(`[0]\njulia = "1"\n`);
  });

  it("is a no-op for a version already registered with the same tree", async () => {
    const before = headCount();
    const r = await register("--package", foo, "--ref", "v0.2.0");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("already registered");
    expect(headCount()).toBe(before);
  });

  describe("refuses tampering, writing nothing", () => {
    const refused = async (args: string[], message: RegExp) => {
      const before = git(registry, "rev-parse", "HEAD");
      const r = await register(...args);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(1);
      expect(git(registry, "rev-parse", "HEAD")).toBe(before);
      expect(git(registry, "status", "--porcelain")).toBe("");
    };

    it("a registered package from a different repository", async () => {
      const fork = path.join(root, "fork");
      git(root, "clone", "-q", foo, fork);
      commitFiles(fork, { "Project.toml": readFileSync(path.join(foo, "Project.toml"), "utf8").replace("0.2.0", "0.3.0") }, "0.3.0");
      git(fork, "tag", "v0.3.0");
      git(fork, "remote", "set-url", "origin", "https://example.invalid/evil/Foo.jl.git");
      await refused(["--package", fork, "--ref", "v0.3.0"], /registered from https:\/\/example.invalid\/Foo.jl.git, not https:\/\/example.invalid\/evil\/Foo.jl.git/);
    });

    it("an existing version with different content", async () => {
      const other = path.join(root, "other");
      git(root, "clone", "-q", "--no-tags", foo, other);
      git(other, "checkout", "-q", git(foo, "rev-parse", "v0.2.0^{commit}"));
      git(other, "switch", "-q", "-c", "rewrite");
      commitFiles(other, { "src/Foo.jl": "module Foo; evil() = 1; end\n" }, "rewrite 0.2.0");
      git(other, "tag", "v0.2.0");
      await refused(["--package", other, "--ref", "v0.2.0", "--repo", "https://example.invalid/Foo.jl.git"], /Foo v0.2.0 is already registered with tree [0-9a-f]{40}, but v0.2.0 has tree/);
    });

    it("a tag that does not match the version", async () => {
      git(foo, "tag", "v0.4.0", "v0.2.0");
      await refused(["--package", foo, "--ref", "v0.4.0"], /tag v0.4.0 does not match Project.toml version 0.2.0 of Foo \(expected v0.2.0\)/);
    });

    it("a known UUID under a new name, and a known name with a new UUID", async () => {
      const renamed = makeRepo(path.join(root, "renamed"), {
        "Project.toml": `name = "Foo2"\nuuid = "${FOO}"\nversion = "0.5.0"\n`,
        "src/Foo2.jl": "module Foo2 end\n",
      }).dir;
      git(renamed, "tag", "v0.5.0");
      await refused(["--package", renamed, "--ref", "v0.5.0", "--repo", "https://example.invalid/Foo.jl.git"], /registered as Foo, but Project.toml names it Foo2/);
      const newUuid = makeRepo(path.join(root, "newuuid"), {
        "Project.toml": `name = "Foo"\nuuid = "f0000000-0000-4000-8000-0000000000ff"\nversion = "0.5.0"\n`,
        "src/Foo.jl": "module Foo end\n",
      }).dir;
      git(newUuid, "tag", "v0.5.0");
      await refused(["--package", newUuid, "--ref", "v0.5.0", "--repo", "https://example.invalid/Foo.jl.git"], /Foo is registered with UUID f0000000-0000-4000-8000-000000000001/);
    });

    it("a ref that is not a tag name, and a subdir outside the repository", async () => {
      await refused(["--package", foo, "--ref=--upload-pack=evil"], /is not a tag name/);
      await refused(["--package", foo, "--ref", "v0.2.0", "--subdir", "../other"], /--subdir: subdirectory "..\/other" must be a relative path inside the repository/);
    });

    it("a bad Project.toml, naming the file and field", async () => {
      const bad = makeRepo(path.join(root, "bad"), {
        "Project.toml": `name = "Qux"\nuuid = "not-a-uuid"\nversion = "1.0.0"\n`,
        "src/Qux.jl": "module Qux end\n",
      }).dir;
      git(bad, "tag", "v1.0.0");
      await refused(["--package", bad, "--ref", "v1.0.0", "--repo", "https://example.invalid/Qux.jl"], /Project.toml at v1.0.0: "uuid" must be a UUID/);
    });
  });

  it("leaves a working-tree registry as it was when the commit fails", async () => {
    const hook = path.join(registry, ".git/hooks/pre-commit");
    writeFileSync(hook, "#!/bin/sh\necho 'registry policy: no commits today' >&2\nexit 1\n", { mode: 0o755 });
    try {
      const lone = makeRepo(path.join(root, "Lone.jl"), { "Project.toml": `name = "Lone"\nuuid = "10e00000-0000-4000-8000-000000000005"\nversion = "0.1.0"\n`, "src/Lone.jl": "module Lone end\n" }).dir;
      git(lone, "tag", "v0.1.0");
      const before = git(registry, "rev-parse", "HEAD");
      const r = await register("--package", lone, "--ref", "v0.1.0", "--repo", "https://example.invalid/Lone.jl");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("registry policy: no commits today");
      expect(git(registry, "rev-parse", "HEAD")).toBe(before);
      expect(git(registry, "status", "--porcelain", "--untracked-files=all")).toBe("");
    } finally {
      rmSync(hook);
    }
  });

  it("clones a registry given by URL, commits and pushes (and needs --push)", async () => {
    const bare = path.join(root, "registry.git");
    git(root, "clone", "-q", "--bare", registry, bare);
    const url = `file://${bare}`;
    const qux = makeRepo(path.join(root, "Qux.jl"), {
      "Project.toml": `name = "Qux"\nuuid = "0c0c0c0c-0000-4000-8000-000000000004"\nversion = "1.0.0"\n`,
      "src/Qux.jl": "module Qux end\n",
    }).dir;
    git(qux, "tag", "v1.0.0");
    const noPush = await runCli(["julia", "register", "--registry", url, "--package", qux, "--ref", "v1.0.0", "--repo", "https://example.invalid/Qux.jl"], env);
    expect(noPush.code).toBe(1);
    expect(noPush.stderr).toMatch(/pass --push/);
    const r = await runCli(["julia", "register", "--registry", url, "--package", `file://${qux}`, "--ref", "v1.0.0", "--push"], env);
    expect(r.code).toBe(0);
    expect(git(bare, "log", "-1", "--format=%s", "main")).toBe("New package: Qux v1.0.0");
    expect(git(bare, "show", "main:Q/Qux/Package.toml")).toContain(`repo = "file://${qux}"`);
  });

  it("two registrations pushed to one registry at once both land (the loser rebases and retries)", async () => {
    const bare = path.join(root, "race.git");
    git(root, "clone", "-q", "--bare", registry, bare);
    const pkgs = ["Alpha", "Beta", "Gamma"].map((name, i) => {
      const dir = makeRepo(path.join(root, `${name}.jl`), {
        "Project.toml": `name = "${name}"\nuuid = "0a0a0a0a-0000-4000-8000-00000000000${i}"\nversion = "0.1.0"\n`,
        [`src/${name}.jl`]: `module ${name} end\n`,
      }).dir;
      git(dir, "tag", "v0.1.0");
      return { name, dir };
    });
    const results = await Promise.all(
      pkgs.map((p) => runCli(["julia", "register", "--registry", `file://${bare}`, "--package", `file://${p.dir}`, "--ref", "v0.1.0", "--push"], env)),
    );
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const registryToml = git(bare, "show", "main:Registry.toml");
    for (const p of pkgs) expect(registryToml).toContain(`name = "${p.name}", path = "${p.name[0]}/${p.name}"`);
    expect(git(bare, "log", "--format=%s", "-3", "main").split("\n").sort()).toEqual(["New package: Alpha v0.1.0", "New package: Beta v0.1.0", "New package: Gamma v0.1.0"]);
  });
});
