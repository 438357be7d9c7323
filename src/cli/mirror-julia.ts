import { readFile } from "node:fs/promises";
import path from "node:path";
import { mirrorJulia } from "../mirror/julia.js";
import { loadHttpAuth } from "../net/http-auth.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, requireFlag, UsageError, type Command } from "./command.js";

const help = `pkgpub mirror julia: copy what Manifest.toml files pin from a Pkg server into the store

Usage:
  pkgpub mirror julia --manifest <Manifest.toml> [--manifest …] --upstream <pkg server URL>
                      [--store <store>] [--platform <triplet> …] [--http-auth-file <file>]

For each package with a git-tree-sha1 (manifest formats 1 and 2; standard libraries and
packages tracked by path or repository are skipped with a note): /package/<uuid>/<tree> from
the upstream, its tree hash verified, then its artifacts (from the package's own
Artifacts.toml: /artifact/<tree> from the upstream, else the download URLs), verified, stored
before the package. Then the upstream's registries that name those packages, verified and
stored, and their lines in /registries, written last. Lines of registries the store already
publishes itself are kept. What the store holds is not fetched again; a re-run writes nothing.
mirror/julia.json records what was mirrored from where (shown on the browse page).

Options:
  --manifest <file>        a Manifest.toml; repeat for several
  --upstream <url>         the Pkg server to copy from (e.g. https://pkg.julialang.org)
  --store <store>          a directory, file://… or s3://bucket[/prefix] (default: PKGPUB_STORE or ./data)
  --platform <triplet>     keep platform-specific artifacts for this platform only (e.g.
                           x86_64-linux-gnu, aarch64-apple-darwin); repeat for several;
                           default: every platform
  --http-auth-file <file>  per-host credentials (TOML [[http_auth]]) for the upstream and
                           artifact servers; default $PKGPUB_HTTP_AUTH_FILE. PKGPUB_HTTP_AUTH
                           ("host=bearer:TOKEN;host2=basic:USER:PASSWORD") adds more.
                           Secrets are never printed.

Exit status: 0 when everything was mirrored; 1 when anything failed (each failure names the
package and version and why: nothing of it is stored; the rest is still mirrored).
`;

const command: Command = {
  path: ["mirror", "julia"],
  summary: "copy exactly what Manifest.toml files pin from a Pkg server into the store, verified",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, {
      manifest: { type: "string", multiple: true },
      upstream: { type: "string" },
      store: { type: "string" },
      platform: { type: "string", multiple: true },
      "http-auth-file": { type: "string" },
    });
    const upstream = requireFlag(values.upstream, "--upstream");
    if (!/^https?:\/\/[^/]/.test(upstream)) throw new UsageError("--upstream must be an http(s) URL");
    if (!values.manifest?.length) throw new UsageError("missing required --manifest");
    const manifests = [];
    for (const file of values.manifest) {
      try {
        manifests.push({ file, text: await readFile(path.resolve(ctx.cwd, file), "utf8") });
      } catch {
        throw new Error(`--manifest ${file}: cannot read the file`);
      }
    }
    const auth = await loadHttpAuth(ctx.env, ctx.cwd, values["http-auth-file"]);
    const store = await openStore(values.store, ctx.env);
    const say = (line: string) => ctx.stdout.write(`${line}\n`);
    const report = await mirrorJulia({ manifests, upstream, store, platforms: values.platform, auth, log: say });
    for (const note of report.notes) say(`note: ${note}`);
    say(
      `mirrored from ${upstream} to ${store.description}: ${report.written.length} objects written, ${report.held} already held, ` +
        `${report.failed.length} failed; registries: ${report.registries.map((r) => `${r.name} ${r.pointer}`).join(", ") || "none"}`,
    );
    for (const f of report.failed) ctx.stderr.write(`failed: ${f.what}: ${f.reason}\n`);
    return report.failed.length > 0 ? 1 : 0;
  },
};
export default command;
