// Node version truth: the floor package.json declares must be one every locked dependency
// accepts, or `npm ci` on that Node prints EBADENGINE warnings (content-type 3 wanted Node 22).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }>;
};

type Version = [number, number, number];

/** "20", "20.19", "20.x", "6.*" as the lowest version they stand for, plus how many parts were given. */
function parseVersion(text: string): { v: Version; parts: number } {
  const parts = text.replace(/^v/, "").split(".").filter((p) => p !== "x" && p !== "*" && p !== "X");
  const n = parts.map(Number);
  return { v: [n[0] ?? 0, n[1] ?? 0, n[2] ?? 0], parts: parts.length };
}
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The npm range forms the lock file uses: "||" of space-separated >=, >, <=, <, ^, =, x-ranges. */
function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version).v;
  return range.split("||").some((clause) => {
    const comparators = clause.trim().replace(/([<>=^~]+)\s+/g, "$1").split(/\s+/).filter(Boolean);
    return comparators.every((c) => {
      if (c === "*") return true;
      const m = /^(>=|<=|>|<|\^|~|=)?(.*)$/.exec(c)!;
      const { v: w, parts } = parseVersion(m[2]!);
      const d = cmp(v, w);
      switch (m[1]) {
        case ">=": return d >= 0;
        case ">": return d > 0;
        case "<=": return d <= 0;
        case "<": return d < 0;
        case "^": return d >= 0 && v[0] === w[0];
        case "~": return d >= 0 && v[0] === w[0] && (parts < 2 || v[1] === w[1]);
        default: return parts === 0 || (v[0] === w[0] && (parts < 2 || v[1] === w[1]) && (parts < 3 || v[2] === w[2]));
      }
    });
  });
}

describe("Node version floor", () => {
  const floor = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];

  it("package.json declares one floor, >=X.Y.Z", () => {
    expect(floor).toBeDefined();
  });

  it("every locked dependency accepts the declared floor (no EBADENGINE on npm install)", () => {
    const refused: string[] = [];
    for (const [name, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (name === "" || range === undefined || entry.optional) continue;
      // Developing (vitest's bundler) may need a later Node 20 than installing; CI runs 20.19+.
      const version = entry.dev ? "20.19.0" : floor!;
      if (!satisfies(version, range)) refused.push(`${name} needs node ${range}, not ${version}`);
    }
    expect(refused).toEqual([]);
  });

  it("reads the range forms the lock file uses", () => {
    expect(satisfies("20.18.1", "^20.18.1 || >= 22")).toBe(true);
    expect(satisfies("20.18.0", "^20.18.1 || >= 22")).toBe(false);
    expect(satisfies("20.18.1", ">=22")).toBe(false);
    expect(satisfies("20.18.1", "6.* || 8.* || >= 10.*")).toBe(true);
    expect(satisfies("20.18.1", "^20.19.0 || >=22.12.0")).toBe(false);
  });
});
