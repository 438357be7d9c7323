// Bundles the CLI into build/cli.js for bin/pkgpub.mjs; dependencies stay external (node_modules).
// Files are renamed into place, so a pkgpub started during a rebuild never loads half a bundle.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

// `pkgpub --version` prints the version of the package it was built from.
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const result = await build({
  entryPoints: ["src/cli.ts"],
  // Split at the CLI's lazy command imports: `pkgpub serve` (each of its workers too) then
  // never loads Probot and Octokit, which only `pkgpub app` needs (about 45 MiB of RSS).
  outdir: "build",
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
  write: false,
  define: { __PKGPUB_VERSION__: JSON.stringify(version) },
});
for (const file of result.outputFiles) {
  mkdirSync(path.dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
