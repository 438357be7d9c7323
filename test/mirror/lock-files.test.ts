import { describe, expect, it } from "vitest";
import { readLockFile, readMixLock, readRebarLock } from "../../src/hex/lock-files.js";
import { readManifest } from "../../src/julia/manifest.js";

const A = "a".repeat(64);
const B = "B".repeat(64);

describe("mix.lock", () => {
  it("reads hex entries of every tuple length, the repo field, and skips git deps", () => {
    const text = `%{
  "decimal": {:hex, :decimal, "2.1.1", "${A}", [:mix], [], "hexpm", "${B}"},
  "jason": {:hex, :jason, "1.4.1", "${A}", [:mix], [{:decimal, "~> 1.0 or ~> 2.0", [hex: :decimal, repo: "hexpm", optional: true]}], "hexpm", "${B}"},
  "old": {:hex, :old_name, "0.1.0", "${A}", [:rebar3], []},
  "private": {:hex, :private, "1.0.0-rc.1", "${A}", [:mix], [], "acme"},
  "mine": {:git, "https://example.invalid/mine.git", "0123abc", [branch: "main"]},
}
`;
    const lock = readMixLock(text);
    expect(lock.packages).toEqual([
      { name: "decimal", version: "2.1.1", repo: "hexpm", innerChecksum: A, outerChecksum: B.toLowerCase() },
      { name: "jason", version: "1.4.1", repo: "hexpm", innerChecksum: A, outerChecksum: B.toLowerCase() },
      { name: "old_name", version: "0.1.0", repo: "hexpm", innerChecksum: A },
      { name: "private", version: "1.0.0-rc.1", repo: "acme", innerChecksum: A },
    ]);
    expect(lock.skipped).toEqual([{ name: "mine", reason: "a git dependency, not from a Hex repository" }]);
  });

  it("names the file and line of what it cannot read", () => {
    expect(() => readMixLock(`%{\n  "x": {:hex, :x, "1.0.0", "zz"}\n}`)).toThrow(/mix\.lock: x: inner checksum "zz" is not/);
    expect(() => readMixLock(`%{\n  "x": {:hex, :x, Foo.bar()}\n}`)).toThrow(/mix\.lock:2: unexpected/);
    expect(() => readMixLock(`[1]`)).toThrow(/not a map/);
  });
});

describe("rebar.lock", () => {
  it("reads the 1.2.0 format with inner and outer hashes, keyed by app name", () => {
    const text = `{"1.2.0",
[{<<"beta">>,{pkg,<<"beta">>,<<"0.1.0">>},0},
 {<<"alpha_app">>,{pkg,<<"alpha">>,<<"1.0.0">>},1},
 {<<"gdep">>,{git,"https://example.invalid/g.git",{ref,"abc"}},0}]}.
[
{pkg_hash,[
 {<<"alpha_app">>, <<"${A}">>},
 {<<"beta">>, <<"${A}">>}]},
{pkg_hash_ext,[
 {<<"alpha_app">>, <<"${B}">>},
 {<<"beta">>, <<"${B}">>}]}
].
`;
    const lock = readRebarLock(text);
    expect(lock.packages).toEqual([
      { name: "beta", version: "0.1.0", innerChecksum: A, outerChecksum: B.toLowerCase() },
      { name: "alpha", version: "1.0.0", innerChecksum: A, outerChecksum: B.toLowerCase() },
    ]);
    expect(lock.skipped.map((s) => s.name)).toEqual(["gdep"]);
  });

  it("reads the old bare-list format and picks the reader by file name", () => {
    const lock = readLockFile(`[{<<"beta">>,{pkg,<<"beta">>,<<"0.1.0">>},0}].\n`, "/x/rebar.lock");
    expect(lock.packages).toEqual([{ name: "beta", version: "0.1.0" }]);
    expect(() => readRebarLock(`{"1.2.0", [{<<"b">>,{pkg,<<"B!">>,<<"1">>},0}]}.`)).toThrow(/rebar\.lock: b: package name "B!"/);
  });
});

describe("Manifest.toml", () => {
  const uuid = (n: number) => `${String(n).repeat(8)}-0000-4000-8000-000000000000`;
  const tree = (c: string) => c.repeat(40);

  it("format 2: registry packages by tree hash; stdlibs, path and repo deps skipped with the reason", () => {
    const m = readManifest(
      `julia_version = "1.10.0"\nmanifest_format = "2.0"\nproject_hash = "x"\n\n` +
        `[[deps.Foo]]\ndeps = ["Bar"]\ngit-tree-sha1 = "${tree("A")}"\nuuid = "${uuid(1)}"\nversion = "0.2.0"\n\n` +
        `[[deps.Dates]]\nuuid = "${uuid(2)}"\n\n` +
        `[[deps.Dev]]\npath = "../Dev"\nuuid = "${uuid(3)}"\nversion = "0.1.0"\n\n` +
        `[[deps.Fork]]\ngit-tree-sha1 = "${tree("b")}"\nrepo-rev = "main"\nrepo-url = "https://example.invalid/Fork.jl"\nuuid = "${uuid(4)}"\n`,
      "Manifest.toml",
    );
    expect(m.format).toBe(2);
    expect(m.packages).toEqual([{ name: "Foo", uuid: uuid(1), version: "0.2.0", treeHash: tree("a") }]);
    expect(m.skipped.map((s) => [s.name, s.reason.split(" (")[0]])).toEqual([
      ["Dates", "a standard library"],
      ["Dev", "tracked by path"],
      ["Fork", "tracked by repository"],
    ]);
  });

  it("format 1: top-level arrays", () => {
    const m = readManifest(`[[Foo]]\ngit-tree-sha1 = "${tree("c")}"\nuuid = "${uuid(1)}"\nversion = "0.1.0"\n\n[[Test]]\nuuid = "${uuid(5)}"\n`, "Manifest.toml");
    expect(m.format).toBe(1);
    expect(m.packages).toEqual([{ name: "Foo", uuid: uuid(1), version: "0.1.0", treeHash: tree("c") }]);
    expect(m.skipped).toHaveLength(1);
  });

  it("refuses a bad hash, naming the file and entry", () => {
    expect(() => readManifest(`manifest_format = "2.0"\n[[deps.Foo]]\ngit-tree-sha1 = "xyz"\nuuid = "${uuid(1)}"\n`, "M.toml")).toThrow(/M\.toml: deps\.Foo: git-tree-sha1 "xyz"/);
  });
});

describe("--platform triplets", () => {
  it("reads triplets into Artifacts.toml keys and matches entries on the keys both name", async () => {
    const { parseTriplet, platformMatches } = await import("../../src/julia/platform.js");
    expect(parseTriplet("x86_64-linux-gnu")).toEqual({ arch: "x86_64", os: "linux", libc: "gnu" });
    expect(parseTriplet("armv7l-linux-gnueabihf")).toEqual({ arch: "armv7l", os: "linux", libc: "gnu", call_abi: "eabihf" });
    expect(parseTriplet("aarch64-apple-darwin")).toEqual({ arch: "aarch64", os: "macos" });
    expect(parseTriplet("x86_64-w64-mingw32")).toEqual({ arch: "x86_64", os: "windows" });
    expect(() => parseTriplet("x86_64-plan9")).toThrow(/unknown operating system/);
    const linux = parseTriplet("x86_64-linux-gnu");
    expect(platformMatches({ arch: "x86_64", os: "linux", libc: "gnu", libgfortran_version: "5.0.0" }, linux)).toBe(true);
    expect(platformMatches({ arch: "x86_64", os: "linux", libc: "musl" }, linux)).toBe(false);
    expect(platformMatches({ arch: "aarch64", os: "macos" }, linux)).toBe(false);
  });
});
