// Bundles the CLI into build/cli.js for bin/pkgpub.mjs; dependencies stay external (node_modules).
import { build } from "esbuild";
await build({
  entryPoints: ["src/cli.ts"],
  outfile: "build/cli.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
