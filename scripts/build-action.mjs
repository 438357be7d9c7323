// Bundles the GitHub Action into dist/index.js: one ESM file with every dependency inside, since
// the runner installs nothing. `node scripts/build-action.mjs [outdir]` (the freshness test
// builds into a temp dir and compares with the committed dist/).
import { build } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "dist"));
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [path.join(root, "src/github/action.ts")],
  outfile: path.join(outdir, "index.js"),
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  legalComments: "none",
  // Some bundled CommonJS dependencies call require() on Node builtins.
  banner: { js: "import{createRequire as __pkgpubRequire}from'node:module';const require=__pkgpubRequire(import.meta.url);" },
  logLevel: "warning",
});
writeFileSync(path.join(outdir, "package.json"), '{ "type": "module" }\n');
