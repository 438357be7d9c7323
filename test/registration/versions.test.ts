import { describe, expect, it } from "vitest";
import { compressVersions } from "../../src/julia/registration/compress.js";
import { compatValue, compareVersions, formatRange, parseVersion } from "../../src/julia/registration/versions.js";
import { printVersionsToml } from "../../src/julia/registration/registry-files.js";

const v = (s: string) => parseVersion(s)!;

describe("[compat] entries as registry ranges (spec §5 table)", () => {
  const table: Array<[string, string | string[]]> = [
    ["1", "1"],
    ["1.2", "1.2.0-1"],
    ["1.2.3", "1.2.3-1"],
    ["0.5", "0.5"],
    ["0.5.2", "0.5.2-0.5"],
    ["0.0.3", "0.0.3"],
    ["~1.2.3", "1.2.3-1.2"],
    ["=1.2.3", "1.2.3"],
    [">= 1.2.3", "1.2.3-*"],
    ["1.2, 2", "1.2.0-2"],
    ["0.9, 1", ["0.9", "1"]],
    // beyond the table: caret on 0.x, tilde on a major, hyphen ranges, strict upper bounds
    ["^0.2.3", "0.2.3-0.2"],
    ["0", "0"],
    ["0.0", "0.0"],
    ["~1", "1"],
    ["0.7 - 1.3", "0.7-1.3"],
    ["<1.2.3", "0.0.0-1.2.2"],
    ["≥1.6", "1.6.0-*"],
    ["1.6, 1.7", "1.6.0-1"],
  ];
  for (const [spec, expected] of table) {
    it(`${JSON.stringify(spec)} → ${JSON.stringify(expected)}`, () => {
      expect(compatValue(spec)).toEqual(expected);
    });
  }

  it("rejects what Pkg rejects, naming the entry", () => {
    expect(() => compatValue("1.x")).toThrow(/invalid version specifier "1.x"/);
    expect(() => compatValue("0.0.0")).toThrow(/0\.0\.0/);
    expect(() => compatValue("<= 1")).toThrow(/invalid version specifier/);
  });
});

describe("range compression (spec §6.6)", () => {
  const ranges = (pool: string[], subset: string[]) => compressVersions(pool.map(v), subset.map(v)).map(formatRange);

  it("a first release 0.1.0 is section 0", () => {
    expect(ranges(["0.1.0"], ["0.1.0"])).toEqual(["0"]);
  });
  it("narrows only as far as the other versions force it", () => {
    expect(ranges(["0.1.0", "0.2.0"], ["0.1.0"])).toEqual(["0-0.1"]);
    expect(ranges(["0.1.0", "0.2.0"], ["0.2.0"])).toEqual(["0.2-0"]);
    expect(ranges(["0.1.0", "0.2.0", "0.3.0"], ["0.1.0", "0.3.0"])).toEqual(["0-0.1", "0.3-0"]);
    expect(ranges(["1.0.0", "1.1.0", "2.0.0"], ["1.0.0", "1.1.0", "2.0.0"])).toEqual(["1-2"]);
    expect(ranges(["1.0.0", "1.0.1", "1.1.0"], ["1.0.1", "1.1.0"])).toEqual(["1.0.1-1"]);
  });
  it("ignores prerelease and build parts", () => {
    expect(ranges(["1.0.0-rc1", "1.0.0", "1.1.0"], ["1.1.0"])).toEqual(["1.1-1"]);
  });
});

describe("Versions.toml", () => {
  it("sorts sections as version numbers and writes git-tree-sha1 before yanked", () => {
    const text = printVersionsToml({
      "0.10.0": { "git-tree-sha1": "c".repeat(40) },
      "0.9.0": { yanked: true, "git-tree-sha1": "b".repeat(40) },
      "0.9.0-rc1": { "git-tree-sha1": "a".repeat(40) },
    });
    expect(text).toBe(
      `["0.9.0-rc1"]\ngit-tree-sha1 = "${"a".repeat(40)}"\n\n["0.9.0"]\ngit-tree-sha1 = "${"b".repeat(40)}"\nyanked = true\n\n["0.10.0"]\ngit-tree-sha1 = "${"c".repeat(40)}"\n`,
    );
    expect(compareVersions(v("1.0.0+b"), v("1.0.0"))).toBe(1);
  });
});

describe("compression round trip (seeded random pools)", () => {
  it("compressed ranges cover exactly the subset, and expanding them gives the data back", async () => {
    const { compress, expand } = await import("../../src/julia/registration/compress.js");
    let seed = 12345;
    // mulberry32: a small deterministic generator
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    for (let round = 0; round < 200; round++) {
      const keys = new Set<string>();
      const count = 1 + rand(12);
      while (keys.size < count) keys.add(`${rand(3)}.${rand(4)}.${rand(4)}`);
      const versions = [...keys].filter((k) => k !== "0.0.0");
      if (versions.length === 0) continue;
      const data = new Map<string, Map<string, string | string[]>>();
      for (const k of versions) {
        const m = new Map<string, string | string[]>();
        if (rand(2)) m.set("A", "uuid-a");
        if (rand(3)) m.set("B", rand(2) ? "1" : ["0.5", "1"]);
        data.set(k, m);
      }
      const pool = versions.map(v);
      const file = compress(data, pool, v);
      const back = expand(file, versions.map((key) => ({ key, version: v(key) })), "round trip");
      for (const k of versions) {
        expect(Object.fromEntries(back.get(k) ?? new Map()), `${k} in ${JSON.stringify(file)}`).toEqual(Object.fromEntries(data.get(k)!));
      }
    }
  });
});

describe("against a file RegistryTools wrote (General's E/Example/Compat.toml)", () => {
  it("expanding and recompressing over the same versions gives the same bytes", async () => {
    const { compress, expand } = await import("../../src/julia/registration/compress.js");
    const { parseTomlFile } = await import("../../src/julia/registration/registry-files.js");
    const { printToml } = await import("../../src/julia/registration/toml-print.js");
    // The versions of Example.jl registered then (its 2.x section is left out with them).
    const versions = ["0.0.1", "0.0.2", "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.3.2", "0.3.3", "0.4.0", "0.4.1", "0.5.0", "0.5.1", "0.5.3", "0.5.4"];
    const file = `["0-0.3"]\njulia = "0.2-1"\n\n["0.4"]\njulia = "0.3-1"\n\n["0.5-0.5.1"]\njulia = "0.6-1"\n\n["0.5.3-0"]\njulia = "1"\n`;
    const data = expand(parseTomlFile(file, "Compat.toml") as never, versions.map((key) => ({ key, version: v(key) })), "Compat.toml");
    expect(printToml(compress(data, versions.map(v), v) as never)).toBe(file);
  });
});

describe("against files RegistryTools wrote (General's A/ACME at one commit)", () => {
  const versionsToml = [
    ["0.7.4", "8b15d893d29c9d4b0767a158688cbb495c5a3b31"], ["0.7.5", "0ca943154415a3c73477bcb97ce1c5e3cc0921be"],
    ["0.8.0", "1db6b319f5b1bb1ae542ec51b002aa4f0f6f3e27"], ["0.9.0", "88fb0ca97b3c36899ecf8161845109e2219e9d4d"],
    ["0.9.1", "6ae77a052027a7c66196d9eb1e93e2960147654f"], ["0.9.2", "c8632c1e1edff98fef87bfe7a401b1f8cb0d36ef"],
    ["0.9.3", "36874b5a40ea9392855e126402a77fd5734f4cb2"], ["0.9.4", "b69fa96710390ae27f35b525916855dada74c675"],
    ["0.9.5", "33af9bed82d7fe39e4e0ba76c76562f9e284ff76"], ["0.10.0", "ecef8c5633a16247a1effa20b312d2eccf546636"],
  ].map(([ver, hash]) => `["${ver}"]\ngit-tree-sha1 = "${hash}"\n`).join("\n");
  const depsToml = [
    `[0]`, `IterTools = "c8e1da08-722c-5040-9ed9-7db0dc04731e"`, `ProgressMeter = "92933f4c-e287-5a05-a399-4b506db050ca"`, ``,
    `["0-0.8"]`, `Compat = "34da2185-b29b-5c13-b0c7-acf172513d20"`, `DataStructures = "864edb3b-99cc-5e75-8d2d-829cb0a9cfe8"`, ``,
    `["0.8-0"]`, `StaticArrays = "90137ffa-7385-5640-81b9-e52037218182"`, ``,
    `["0.9-0"]`, `LinearAlgebra = "37e2e46d-f89d-539d-b4ee-838fcccc9c8e"`, `Markdown = "d6f4376e-aef5-505a-96c1-9c027394607a"`,
    `OrderedCollections = "bac558e1-5e72-5ebc-8fee-abe8a469f55d"`, `SparseArrays = "2f01184e-e22b-5df5-ae63-d93ebab69eaf"`,
    `Statistics = "10745b16-79ce-11e8-11f9-7d13ad32a3b2"`, ``,
    `["0.9.3-0.9"]`, `Compat = "34da2185-b29b-5c13-b0c7-acf172513d20"`, ``,
  ].join("\n");

  it("Versions.toml and Deps.toml come back byte for byte", async () => {
    const { compress, expand } = await import("../../src/julia/registration/compress.js");
    const { parseTomlFile, parseVersionsToml } = await import("../../src/julia/registration/registry-files.js");
    const { printToml } = await import("../../src/julia/registration/toml-print.js");
    expect(printVersionsToml(parseVersionsToml(versionsToml, "Versions.toml"))).toBe(versionsToml);
    const keys = Object.keys(parseVersionsToml(versionsToml, "Versions.toml"));
    const data = expand(parseTomlFile(depsToml, "Deps.toml") as never, keys.map((key) => ({ key, version: v(key) })), "Deps.toml");
    expect(printToml(compress(data, keys.map(v), v) as never)).toBe(depsToml);
  });
});
