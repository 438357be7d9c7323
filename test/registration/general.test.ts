// Range compression against files RegistryTools wrote in General for a package across its 1.0
// release (DataFrames 0.11.7 … 1.5.0): expanding them and compressing again must give the same
// bytes, ranges that cross the major version included.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compress, compressVersions, expand } from "../../src/julia/registration/compress.js";
import { parseTomlFile, parseVersionsToml } from "../../src/julia/registration/registry-files.js";
import { printToml } from "../../src/julia/registration/toml-print.js";
import { formatRange, parseVersion } from "../../src/julia/registration/versions.js";

const v = (s: string) => parseVersion(s)!;
const dir = new URL("./general/DataFrames/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir), "utf8");

describe("DataFrames' Deps.toml and Compat.toml from General (see general/README.md)", () => {
  const keys = Object.keys(parseVersionsToml(read("Versions.toml"), "Versions.toml"));

  for (const name of ["Deps.toml", "Compat.toml"]) {
    it(`${name} comes back byte for byte`, () => {
      const text = read(name);
      const data = expand(parseTomlFile(text, name) as never, keys.map((key) => ({ key, version: v(key) })), name);
      expect(printToml(compress(data, keys.map(v), v) as never)).toBe(text);
    });
  }

  it("a dependency held by 0.x and 1.x is one range, as RegistryTools writes it", () => {
    const text = read("Deps.toml");
    expect(text).toContain(`["0.12-1"]\nPrintf =`);
    expect(text).toContain(`[0-1]\nCompat =`);
    const pool = keys.map(v);
    const from = (first: string) => keys.filter((k) => compareKey(k, first) >= 0).map(v);
    expect(compressVersions(pool, from("0.19.1")).map(formatRange)).toEqual(["0.19.1-1"]);
    expect(compressVersions(pool, pool).map(formatRange)).toEqual(["0-1"]);
  });
});

describe("ranges that touch are merged (Pkg's VersionSpec union)", () => {
  const ranges = (pool: string[], subset: string[]) => compressVersions(pool.map(v), subset.map(v)).map(formatRange);
  it("0.4.2 … 0.x and 1.0.0 is 0.4.2-1", () => {
    expect(ranges(["0.4.0", "0.4.1", "0.4.2", "0.5.0", "1.0.0"], ["0.4.2", "0.5.0", "1.0.0"])).toEqual(["0.4.2-1"]);
  });
  it("a gap of a whole major version stays two ranges", () => {
    expect(ranges(["0.1.0", "1.0.0", "2.0.0"], ["0.1.0", "2.0.0"])).toEqual(["0", "2"]);
  });
  it("neighbouring minors of different majors do not touch", () => {
    expect(ranges(["0.1.0", "0.2.0", "1.0.0", "1.1.0"], ["0.2.0", "1.0.0"])).toEqual(["0.2-0", "1.0"]);
  });
});

function compareKey(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
