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
    expect(ranges(["1.0.0", "1.1.0", "2.0.0"], ["1.0.0", "1.1.0", "2.0.0"])).toEqual(["1", "2"]);
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
