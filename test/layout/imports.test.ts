// The code layout of DESIGN.md as a rule: domain folders do no I/O and know no adapter, adapters
// hold no door's code, and no front door (cli, github, api, server) reaches into another.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const src = path.resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every import of a file, as the top folder under src/ it lands in ("node:fs" for built-ins). */
function importsOf(file: string): { spec: string; target: string }[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["']([^"']+)["']/gm), ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  return specs.map((spec) => {
    if (!spec.startsWith(".")) return { spec, target: spec };
    const rel = path.relative(src, path.resolve(path.dirname(file), spec));
    return { spec, target: rel.split(path.sep)[0]! };
  });
}

const folderOf = (file: string) => path.relative(src, file).split(path.sep)[0]!;
const files = sourceFiles(src);

/** Which src folders each folder may import from (itself always allowed). */
const allowed: Record<string, string[]> = {
  bytes: [],
  julia: ["bytes"],
  hex: ["bytes"],
  git: ["bytes"],
  net: ["bytes"],
  store: ["bytes"],
  publish: ["bytes", "julia", "hex", "git", "store", "net"],
  server: ["bytes", "julia", "hex", "store", "net"],
  api: ["bytes", "hex", "store", "net", "publish"],
  mirror: ["bytes", "julia", "hex", "store", "net", "publish"],
  github: ["bytes", "julia", "hex", "git", "store", "net", "publish", "mirror"],
  cli: ["bytes", "julia", "hex", "git", "store", "net", "publish", "server", "api", "github", "mirror"],
};
const ioModules = /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|tls|cluster|worker_threads)$/;

describe("code layout", () => {
  it("each folder imports only the folders below it", () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      if (from.endsWith(".ts")) continue; // src/cli.ts, the entry
      const may = allowed[from];
      if (!may) { wrong.push(`${path.relative(src, file)}: folder ${from} is not in the layout (add it to DESIGN.md and this test)`); continue; }
      for (const { spec, target } of importsOf(file)) {
        if (spec.startsWith(".") && target !== from && !may.includes(target)) wrong.push(`${path.relative(src, file)} imports ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("domain code (julia, hex, bytes) does no I/O", () => {
    const wrong = files
      .filter((f) => ["julia", "hex", "bytes"].includes(folderOf(f)))
      .flatMap((f) => importsOf(f).filter((i) => ioModules.test(i.spec)).map((i) => `${path.relative(src, f)} imports ${i.spec}`));
    expect(wrong).toEqual([]);
  });
});
