// `npm run bench [-- name...]`: runs every bench/*.bench.ts (bundled with esbuild) and
// bench/*.bench.mjs in its own process, one after another, so memory figures are per bench.
// Each bench prints its figures as ratios against a baseline measured in the same run.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const dir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(dir, "..");
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => /\.bench\.(ts|mjs)$/.test(f))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

let failed = 0;
for (const file of benches) {
  let entry = path.join(dir, file);
  if (file.endsWith(".ts")) {
    const out = path.join(root, "build/bench", file.replace(/\.ts$/, ".mjs"));
    await build({ entryPoints: [entry], outfile: out, bundle: true, platform: "node", target: "node20", format: "esm", packages: "external", logLevel: "warning" });
    entry = out;
  }
  console.log(`\n=== ${file}`);
  const r = spawnSync(process.execPath, ["--expose-gc", entry], { stdio: "inherit", cwd: root });
  if (r.status !== 0) {
    failed++;
    console.log(`!!! ${file} exited with ${r.status}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
