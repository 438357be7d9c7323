// The corpus: realistic mix and rebar3 projects (test/hex/corpus/<case>/project), each with the
// metadata.config its client writes (expected.metadata.config, laid out as `mix hex.build` of
// Hex 2.5.1 or rebar3_hex write it) or the refusal it must get (case.json "error").
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseTerms, type Term } from "../../src/hex/erlang-terms.js";
import { formatMetadata } from "../../src/hex/metadata.js";
import { planPackage, type BuildTool } from "../../src/hex/plan-source.js";
import type { SourceTree } from "../../src/hex/source.js";
import { buildHexTarball } from "../../src/hex/tarball.js";

const root = path.join(import.meta.dirname, "corpus");

interface Case {
  about: string;
  tag: string;
  buildTool?: BuildTool;
  error?: string;
  notes?: string[];
}

function walk(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(p).isDirectory() ? walk(p, rel) : [rel];
  });
}

function treeOf(dir: string): SourceTree {
  return {
    paths: walk(dir).sort(),
    read: async (p) => new Uint8Array(readFileSync(path.join(dir, p))),
    isExecutable: () => false,
    symlinkTarget: () => undefined,
  };
}

/** Term order is what the client writes, except the order of `files`, which follows its walk of the disk. */
function normalise(terms: Term[]): unknown {
  return terms.map((t) => {
    if (t.t === "tuple" && t.v[0]?.t === "bin" && new TextDecoder().decode(t.v[0].v) === "files" && t.v[1]?.t === "list") {
      return { files: t.v[1].v.map((x) => (x.t === "bin" ? new TextDecoder().decode(x.v) : x)).sort() };
    }
    return JSON.parse(JSON.stringify(t, (_k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v)));
  });
}

const cases = readdirSync(root).sort();

describe("corpus of realistic mix and rebar3 projects", () => {
  it("holds published and refused shapes of both build tools", () => {
    expect(cases.length).toBeGreaterThanOrEqual(18);
    const kinds = cases.map((c) => JSON.parse(readFileSync(path.join(root, c, "case.json"), "utf8")) as Case);
    expect(kinds.filter((k) => k.error).length).toBeGreaterThanOrEqual(6);
    expect(kinds.filter((k) => !k.error).length).toBeGreaterThanOrEqual(10);
  });

  it.each(cases)("%s", async (name) => {
    const dir = path.join(root, name);
    const c = JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) as Case;
    const tree = treeOf(path.join(dir, "project"));
    if (c.error !== undefined) {
      await expect(planPackage(tree, c.tag, c.buildTool)).rejects.toThrow(c.error);
      return;
    }
    const plan = await planPackage(tree, c.tag, c.buildTool);
    const written = formatMetadata(plan.metadata, plan.layout);
    const expected = readFileSync(path.join(dir, "expected.metadata.config"), "utf8");
    expect(normalise(parseTerms(written, "written"))).toEqual(normalise(parseTerms(expected, "expected.metadata.config")));
    for (const n of c.notes ?? []) expect((plan.notes ?? []).join("\n")).toContain(n);
    // The tarball holds the files (not the directories) and is what clients verify.
    const { tarball } = buildHexTarball(plan.metadata, plan.files, plan.layout);
    expect(tarball.metadata.name).toBe(plan.metadata.name);
    expect(plan.files.map((f) => f.path).every((p) => plan.metadata.files.includes(p) && tree.paths.includes(p))).toBe(true);
  });
});
