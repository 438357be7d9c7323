import { readFile } from "node:fs/promises";
import path from "node:path";
import { mirrorHex } from "../mirror/hex.js";
import { loadHttpAuth } from "../net/http-auth.js";
import { openStore } from "../store/open-store.js";
import { parseFlags, requireFlag, UsageError, type Command } from "./command.js";

const help = `pkgpub mirror hex: copy what mix.lock / rebar.lock pin from a Hex repository into the store

Usage:
  pkgpub mirror hex --lock <mix.lock|rebar.lock> [--lock …] --repo <name> --upstream <repo URL>
                    --public-key <pem-file> [--store <store>] [--http-auth-file <file>]

For each locked Hex package of the repository (mix.lock's repo field must be <name>; rebar.lock
entries are all taken; git and path dependencies are skipped with a note): the upstream's
signed packages/<name>, verified with --public-key; each locked version's tarball, whose SHA-256
must be the outer checksum in that signed resource AND the lock's checksum. Stored as the
upstream signed them, tarballs first, then packages/<name>, then the upstream's names and
versions unchanged, last, and public_key. Clients install from the store with the upstream's
own key (for repo.hex.pm, --repo hexpm):
  HEX_MIRROR_URL=https://host/repos/hexpm mix deps.get
  HEX_CDN=https://host/repos/hexpm rebar3 get-deps
Clients see the upstream's full names and versions; a package outside the lock files is 404.
What the store holds is not fetched again; a re-run writes nothing. mirror/hex/<name>.json
records what was mirrored from where (shown on the browse page).

Options:
  --lock <file>            a mix.lock or rebar.lock (by file name; else by content); repeat
  --repo <name>            the repository name the upstream signs with (hexpm for repo.hex.pm);
                           objects go under repos/<name>/ in the store
  --upstream <url>         the repository base URL (e.g. https://repo.hex.pm)
  --public-key <file>      the upstream's public key, PEM (curl -o hexpm.pem https://repo.hex.pm/public_key,
                           then check its fingerprint)
  --store <store>          a directory, file://… or s3://bucket[/prefix] (default: PKGPUB_STORE or ./data)
  --http-auth-file <file>  per-host credentials (TOML [[http_auth]]); default $PKGPUB_HTTP_AUTH_FILE;
                           PKGPUB_HTTP_AUTH adds more. Secrets are never printed.

Exit status: 0 when everything was mirrored; 1 when anything failed (each failure names the
package and version and why: nothing of it is stored; the rest is still mirrored).
`;

const command: Command = {
  path: ["mirror", "hex"],
  summary: "copy exactly what mix.lock/rebar.lock pin from a Hex repository into the store, verified",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, {
      lock: { type: "string", multiple: true },
      repo: { type: "string" },
      upstream: { type: "string" },
      "public-key": { type: "string" },
      store: { type: "string" },
      "http-auth-file": { type: "string" },
    });
    const repo = requireFlag(values.repo, "--repo");
    if (!/^[a-z0-9_-]+$/.test(repo)) throw new UsageError("--repo must be a repository name (lower-case letters, digits, _ and -)");
    const upstream = requireFlag(values.upstream, "--upstream");
    if (!/^https?:\/\/[^/]/.test(upstream)) throw new UsageError("--upstream must be an http(s) URL");
    const keyFile = requireFlag(values["public-key"], "--public-key");
    if (!values.lock?.length) throw new UsageError("missing required --lock");
    const read = async (file: string, flag: string) => {
      try {
        return await readFile(path.resolve(ctx.cwd, file), "utf8");
      } catch {
        throw new Error(`${flag} ${file}: cannot read the file`);
      }
    };
    const locks = [];
    for (const file of values.lock) locks.push({ file, text: await read(file, "--lock") });
    const publicKeyPem = await read(keyFile, "--public-key");
    const auth = await loadHttpAuth(ctx.env, ctx.cwd, values["http-auth-file"]);
    const store = await openStore(values.store, ctx.env);
    const say = (line: string) => ctx.stdout.write(`${line}\n`);
    const report = await mirrorHex({ locks, repo, upstream, publicKeyPem, store, auth, log: say });
    for (const note of report.notes) say(`note: ${note}`);
    say(`mirrored ${repo} from ${upstream} to ${store.description}: ${report.written.length} objects written, ${report.held} already held, ${report.failed.length} failed`);
    for (const f of report.failed) ctx.stderr.write(`failed: ${f.what}: ${f.reason}\n`);
    return report.failed.length > 0 ? 1 : 0;
  },
};
export default command;
