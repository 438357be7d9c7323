import { describe, expect, it } from "vitest";
import { planRebarPackage } from "../../src/hex/rebar-source.js";
import { selectFiles, MIX_DEFAULT_FILES, REBAR_DEFAULT_FILES, guessBuildTools } from "../../src/hex/files.js";
import type { SourceTree } from "../../src/hex/source.js";
import { compareSemVer } from "../../src/hex/semver.js";
import { versionsEntry, withRelease, withRetirement } from "../../src/hex/registry.js";
import type { Package, Release } from "../../src/hex/messages.js";

/** Files as a git tree would give them (the adapter reads them from git objects). */
function tree(files: Record<string, string>): SourceTree {
  return {
    paths: Object.keys(files).sort(),
    read: async (p) => new TextEncoder().encode(files[p]!),
    isExecutable: () => false,
    symlinkTarget: () => undefined,
  };
}

const APP_SRC = `{application, thing, [{description, "A thing"}, {vsn, git}, {applications, [kernel, stdlib]}, {licenses, ["MIT"]}, {pkg_name, thing_erl}]}.\n`;

describe("rebar3 projects", () => {
  it("takes requirements from level-0 packages of rebar.lock and requirement strings from rebar.config", async () => {
    const plan = await planRebarPackage(
      tree({
        "src/thing.app.src": APP_SRC,
        "src/thing.erl": "-module(thing).\n",
        "rebar.config": `{deps, [{cowboy, "~> 2.10"}, jsx]}.\n{profiles, [{test, [{deps, [meck]}]}]}.\n`,
        "rebar.lock": `{"1.2.0",\n[{<<"cowboy">>,{pkg,<<"cowboy">>,<<"2.10.0">>},0},\n {<<"cowlib">>,{pkg,<<"cowlib">>,<<"2.12.1">>},1},\n {<<"jsx">>,{pkg,<<"jsx">>,<<"3.1.0">>},0}]}.\n[{pkg_hash,[]}].\n`,
      }),
      "v1.0.0",
    );
    expect(plan.metadata).toMatchObject({ name: "thing_erl", app: "thing", version: "1.0.0", description: "A thing", licenses: ["MIT"], buildTools: ["rebar3"] });
    expect(plan.metadata.requirements).toEqual([
      { name: "cowboy", app: "cowboy", requirement: "~> 2.10", optional: false },
      { name: "jsx", app: "jsx", requirement: "~>3.1.0", optional: false },
    ]);
    const appSrc = new TextDecoder().decode(plan.files.find((f) => f.path === "src/thing.app.src")!.data);
    expect(appSrc).toContain('{vsn,"1.0.0"}');
  });

  it("reads the pre-3.5 lock format", async () => {
    const plan = await planRebarPackage(tree({ "src/thing.app.src": APP_SRC, "rebar.config": "{deps, [jsx]}.\n", "rebar.lock": `[{<<"jsx">>,{pkg,<<"jsx">>,<<"2.9.0">>},0}].\n` }), "1.0.0");
    expect(plan.metadata.requirements.map((r) => r.requirement)).toEqual(["~>2.9.0"]);
  });

  it.each<[string, Record<string, string>, string, string]>([
    ["a dep without a requirement and no lock file", { "rebar.config": "{deps, [jsx]}.\n" }, "v1.0.0", "rebar.config: dependency jsx has no version requirement and there is no rebar.lock; commit rebar.lock (run `rebar3 lock`)"],
    ["a git dependency", { "rebar.config": "{deps, [{x, {git, \"https://x\", {tag, \"1\"}}}]}.\n", "rebar.lock": `{"1.2.0",[{<<"x">>,{git,"https://x",{ref,"abc"}},0}]}.\n[].\n` }, "v1.0.0", "rebar.lock: x is not a Hex package"],
    ["rebar.config.script", { "rebar.config.script": "CONFIG.\n" }, "v1.0.0", "rebar.config.script computes the configuration at build time"],
    ["a broken rebar.config", { "rebar.config": "{deps, [jsx}.\n" }, "v1.0.0", "rebar.config:1: expected"],
    ["a variable in rebar.config", { "rebar.config": "{deps, Deps}.\n" }, "v1.0.0", "rebar.config:1: variables are not allowed here (Deps)"],
    ["a version that is not the tag", { "src/thing.app.src": APP_SRC.replace("{vsn, git}", '{vsn, "1.0.0"}') }, "v1.0.1", 'src/thing.app.src: vsn "1.0.0" does not match the tag "v1.0.1"'],
    ["a computed vsn", { "src/thing.app.src": APP_SRC.replace("{vsn, git}", '{vsn, {cmd, "cat VERSION"}}') }, "v1.0.0", 'src/thing.app.src: vsn {cmd,"cat VERSION"} is computed at build time'],
    ["a tag that is not SemVer", {}, "release-7", 'src/thing.app.src vsn: version "release-7" is not a SemVer 2.0 version'],
    ["an invalid package name", { "src/thing.app.src": APP_SRC.replace("{pkg_name, thing_erl}", '{pkg_name, "Thing"}') }, "v1.0.0", 'src/thing.app.src package name: package name "Thing" is not valid'],
  ])("refuses %s", async (_label, files, tag, message) => {
    await expect(planRebarPackage(tree({ "src/thing.app.src": APP_SRC, ...files }), tag)).rejects.toThrow(message);
  });
});

describe("file selection", () => {
  const paths = [".formatter.exs", ".github/workflows/ci.yml", "CHANGELOG.md", "LICENSE", "README.md", "lib/a.ex", "lib/deep/.hidden.ex", "lib/deep/b.ex", "mix.exs", "priv/static/x.js", "src/x.erl", "src/x.erl.swp", "src/x.o", "test/a_test.exs", "docs/index.md", "include/x.hrl", "rebar.config"];

  it("takes mix's defaults: listed directories whole, root globs, no tests or CI files", () => {
    expect(selectFiles(paths, MIX_DEFAULT_FILES)).toEqual([".formatter.exs", "CHANGELOG.md", "LICENSE", "README.md", "lib/a.ex", "lib/deep/.hidden.ex", "lib/deep/b.ex", "mix.exs", "priv/static/x.js", "src/x.erl", "src/x.erl.swp", "src/x.o"]);
  });

  it("takes rebar3_hex's defaults and always leaves out editor and object files", () => {
    expect(selectFiles(paths, REBAR_DEFAULT_FILES, { rebar: true })).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "include/x.hrl", "priv/static/x.js", "rebar.config", "src/x.erl"]);
  });

  it("understands **, {a,b}, ? and keeps wildcards off dotfiles", () => {
    expect(selectFiles(paths, ["lib/**/*.ex"])).toEqual(["lib/a.ex", "lib/deep/b.ex"]);
    expect(selectFiles(paths, ["{lib,src}/*.e?"])).toEqual(["lib/a.ex"]);
    expect(selectFiles(paths, ["*"]).some((p) => p.startsWith(".github"))).toBe(false);
  });

  it("guesses build tools from root files like mix does", () => {
    expect(guessBuildTools(["mix.exs", "lib/a.ex"])).toEqual(["mix"]);
    expect(guessBuildTools(["rebar.config", "Makefile"])).toEqual(["rebar3", "make"]);
  });
});

describe("registry building", () => {
  const release = (version: string): Release => ({ version, innerChecksum: new Uint8Array(32), outerChecksum: new Uint8Array(32).fill(version.length), dependencies: [] });

  it("orders releases by SemVer precedence and keeps retired indexes pointing at the right versions", () => {
    let pkg: Package = { name: "p", repository: "acme", releases: [] };
    for (const v of ["1.10.0", "1.2.0", "1.0.0-rc.1", "1.0.0", "1.0.0-beta.11", "1.0.0-beta.2"]) pkg = withRelease(pkg, release(v));
    pkg = withRetirement(pkg, "1.2.0", { reason: "deprecated" });
    expect(versionsEntry(pkg)).toEqual({ name: "p", versions: ["1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0"], retired: [4] });
    expect(compareSemVer("1.0.0+build.2", "1.0.0+build.10")).not.toBe(0);
  });
});
