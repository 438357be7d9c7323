// Hex HTTP API figures: one release published through the API door (`mix hex.publish`'s
// POST …/releases with Expect: 100-continue, on a real loopback server) into a repository of
// 1,000 packages × 10 releases in a directory store, against the CLI's
// `pkgpub hex publish --tarball` path (publishHex) of the same tarball into an identical
// repository in the same run: wall time and store operations.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import { createHexApi } from "../src/api/api.js";
import type { Package } from "../src/hex/messages.js";
import { mergeVersions, namesOf, releaseOf, signNames, signPackage, signVersions, versionsEntry, withRelease } from "../src/hex/registry.js";
import { publicKeyOf, spkiPem } from "../src/hex/signing.js";
import { buildHexTarball, readHexTarball } from "../src/hex/tarball.js";
import { publishHex } from "../src/publish/hex-publish.js";
import { startServer } from "../src/server/start-server.js";
import { FsStore } from "../src/store/fs-store.js";
import type { Store } from "../src/store/store.js";
import { CountingStore } from "./counting-store.js";
import { benchDir, median, report, timed } from "./util.js";

const PACKAGES = 1000;
const RELEASES = 10;
const TOKEN = "bench-token-0123456789";


function tarballFor(name: string, version: string): Uint8Array {
  const enc = new TextEncoder();
  return buildHexTarball(
    { name, version, app: name, description: name, licenses: ["MIT"], links: [], buildTools: ["rebar3"], requirements: [], files: [`src/${name}.erl`] },
    [{ path: `src/${name}.erl`, data: enc.encode(`-module(${name}).\n-export([v/0]).\nv() -> "${version}".\n`) }],
  ).bytes;
}

const nameOf = (i: number) => `pkg_${String(i).padStart(4, "0")}`;

/** The same 1,000 × 10 repository under each name (tarballs written once, indexes signed per repository). */
async function seed(store: Store, key: KeyObject, repos: string[]): Promise<void> {
  const entries: Record<string, ReturnType<typeof versionsEntry>[]> = Object.fromEntries(repos.map((r) => [r, []]));
  for (let i = 0; i < PACKAGES; i++) {
    const name = nameOf(i);
    const pkgs: Record<string, Package> = Object.fromEntries(repos.map((r) => [r, { name, repository: r, releases: [] }]));
    for (let r = 0; r < RELEASES; r++) {
      const version = `1.${r}.0`;
      const bytes = tarballFor(name, version);
      const tarball = readHexTarball(bytes);
      for (const repo of repos) {
        await store.put(`repos/${repo}/tarballs/${name}-${version}.tar`, bytes);
        pkgs[repo] = withRelease(pkgs[repo]!, releaseOf(tarball, repo));
      }
    }
    for (const repo of repos) {
      await store.put(`repos/${repo}/packages/${name}`, signPackage(pkgs[repo]!, key));
      entries[repo]!.push(versionsEntry(pkgs[repo]!));
    }
  }
  for (const repo of repos) {
    const versions = mergeVersions(repo, [], entries[repo]!);
    await store.put(`repos/${repo}/versions`, signVersions(versions, key));
    await store.put(`repos/${repo}/names`, signNames(namesOf(versions), key));
    await store.put(`repos/${repo}/public_key`, spkiPem(publicKeyOf(key)));
  }
}

/** POST …/releases as Hex 2.5.1 sends it: headers first, the body after 100 Continue. */
function apiPublish(base: string, repo: string, name: string, body: Uint8Array): Promise<number> {
  const u = new URL(`${base}/api/repos/${repo}/packages/${name}/releases?replace=false`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: "POST", agent: false, headers: { authorization: TOKEN, "content-type": "application/octet-stream", "content-length": String(body.length), expect: "100-continue", connection: "close", accept: "application/vnd.hex+erlang" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      },
    );
    req.on("error", reject);
    req.on("continue", () => req.end(body));
    req.flushHeaders();
  });
}

const tmp = benchDir("api");
try {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const store = new CountingStore(new FsStore(path.join(tmp.dir, "store")));
  const seeded = await timed(() => seed(store, privateKey, ["viaapi", "viacli"]));
  console.log(`  (seeded 2 repositories of ${PACKAGES} packages × ${RELEASES} releases in ${(seeded.ms / 1000).toFixed(1)} s)`);
  const server = await startServer({
    store,
    port: 0,
    log: new Writable({ write: (_c, _e, cb) => cb() }),
    logLevel: "warn",
    tokens: [{ name: "bench", token: TOKEN, scopes: ["/"], publish: ["viaapi"], replace: [] }],
    publishRepos: ["viaapi"],
    door: (s) => createHexApi({ store: s, repos: [{ repo: "viaapi", privateKey }], tokens: [{ name: "bench", secret: TOKEN, scopes: ["/"], publish: ["viaapi"], replace: [] }] }),
  });
  try {
    const api: number[] = [];
    const cli: number[] = [];
    let apiOps = { reads: 0, writes: 0, lists: 0 };
    let cliOps = { reads: 0, writes: 0, lists: 0 };
    for (let run = 0; run < 5; run++) {
      const name = nameOf(500 + run);
      const bytes = tarballFor(name, "2.0.0");
      const file = path.join(tmp.dir, `${name}-2.0.0.tar`);
      writeFileSync(file, bytes);
      // Alternate which goes first, so neither always meets a warmer cache.
      const doApi = async () => {
        store.reset();
        const t = await timed(() => apiPublish(server.url, "viaapi", name, bytes));
        if (t.value !== 201) throw new Error(`API publish answered ${t.value}`);
        api.push(t.ms);
        apiOps = { reads: store.reads, writes: store.writes, lists: store.lists };
      };
      const doCli = async () => {
        store.reset();
        const t = await timed(() => publishHex({ store, repo: "viacli", privateKey, input: { tarball: file } }));
        cli.push(t.ms);
        cliOps = { reads: store.reads, writes: store.writes, lists: store.lists };
      };
      if (run % 2 === 0) {
        await doApi();
        await doCli();
      } else {
        await doCli();
        await doApi();
      }
    }
    const a = median(api);
    const c = median(cli);
    report("API publish of one release (median of 5)", `${a.toFixed(1)} ms`);
    report("  store objects read / written, listings", `${apiOps.reads} / ${apiOps.writes}, ${apiOps.lists}`);
    report("CLI hex publish --tarball, same tarball (baseline)", `${c.toFixed(1)} ms`);
    report("  store objects read / written, listings", `${cliOps.reads} / ${cliOps.writes}, ${cliOps.lists}`);
    report("API over CLI", `${(a / c).toFixed(2)}× the time, ${apiOps.writes - cliOps.writes >= 0 ? "+" : ""}${apiOps.writes - cliOps.writes} writes`);
  } finally {
    await server.close();
  }
} finally {
  tmp.cleanup();
}
