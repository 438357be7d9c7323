// Hex figures. (1) One new release into a repository of 1,000 packages × 10 releases in a
// directory store: wall time and store operations of `publishHex`, against rebuilding every
// index from the tarballs (what `mix hex.registry build` does) in the same run. (2) Signing and
// encoding packages/<name> for a package with 500 releases, against encoding alone.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { encodePackage, type Package, type Release } from "../src/hex/messages.js";
import { mergeVersions, namesOf, releaseOf, signNames, signPackage, signVersions, versionsEntry, withRelease } from "../src/hex/registry.js";
import { publicKeyOf, spkiPem } from "../src/hex/signing.js";
import { buildHexTarball, readHexTarball } from "../src/hex/tarball.js";
import { publishHex } from "../src/publish/hex-publish.js";
import { FsStore } from "../src/store/fs-store.js";
import type { Store } from "../src/store/store.js";
import { CountingStore } from "./counting-store.js";
import { benchDir, median, report, timed } from "./util.js";

const PACKAGES = 1000;
const RELEASES = 10;
const REPO = "bench";


function tarballFor(name: string, version: string): Uint8Array {
  const enc = new TextEncoder();
  return buildHexTarball(
    { name, version, app: name, description: `${name}`, licenses: ["MIT"], links: [], buildTools: ["rebar3"], requirements: [{ name: "pkg_0000", app: "pkg_0000", requirement: "~> 1.0", optional: false }], files: [`src/${name}.erl`] },
    [{ path: `src/${name}.erl`, data: enc.encode(`-module(${name}).\n-export([v/0]).\nv() -> "${version}".\n`) }],
  ).bytes;
}

const nameOf = (i: number) => `pkg_${String(i).padStart(4, "0")}`;

async function seed(store: Store, key: KeyObject): Promise<void> {
  const entries = [];
  for (let i = 0; i < PACKAGES; i++) {
    const name = nameOf(i);
    let pkg: Package = { name, repository: REPO, releases: [] };
    for (let r = 0; r < RELEASES; r++) {
      const version = `1.${r}.0`;
      const bytes = tarballFor(name, version);
      await store.put(`repos/${REPO}/tarballs/${name}-${version}.tar`, bytes);
      pkg = withRelease(pkg, releaseOf(readHexTarball(bytes), REPO));
    }
    await store.put(`repos/${REPO}/packages/${name}`, signPackage(pkg, key));
    entries.push(versionsEntry(pkg));
  }
  const versions = mergeVersions(REPO, [], entries);
  await store.put(`repos/${REPO}/versions`, signVersions(versions, key));
  await store.put(`repos/${REPO}/names`, signNames(namesOf(versions), key));
  await store.put(`repos/${REPO}/public_key`, spkiPem(publicKeyOf(key)));
}

/** The baseline: every index rebuilt from every tarball. */
async function fullRebuild(store: Store, key: KeyObject): Promise<void> {
  const byName = new Map<string, Package>();
  for await (const e of store.list(`repos/${REPO}/tarballs/`)) {
    const obj = await store.get(e.key);
    const t = readHexTarball(await buffer(obj!.body));
    const name = t.metadata.name;
    byName.set(name, withRelease(byName.get(name) ?? { name, repository: REPO, releases: [] }, releaseOf(t, REPO)));
  }
  const entries = [];
  for (const pkg of byName.values()) {
    await store.put(`repos/${REPO}/packages/${pkg.name}`, signPackage(pkg, key));
    entries.push(versionsEntry(pkg));
  }
  const versions = mergeVersions(REPO, [], entries);
  await store.put(`repos/${REPO}/versions`, signVersions(versions, key));
  await store.put(`repos/${REPO}/names`, signNames(namesOf(versions), key));
}

async function incremental(): Promise<void> {
  const tmp = benchDir("hex");
  try {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const store = new CountingStore(new FsStore(path.join(tmp.dir, "store")));
    const seeded = await timed(() => seed(store, privateKey));
    console.log(`  (seeded ${PACKAGES} packages × ${RELEASES} releases in ${(seeded.ms / 1000).toFixed(1)} s)`);

    const runs: number[] = [];
    let ops = { reads: 0, writes: 0, lists: 0, listed: 0 };
    for (let run = 0; run < 3; run++) {
      const file = path.join(tmp.dir, `new-${run}.tar`);
      writeFileSync(file, tarballFor(nameOf(500 + run), "2.0.0"));
      store.reset();
      const t = await timed(() => publishHex({ store, repo: REPO, privateKey, input: { tarball: file } }));
      runs.push(t.ms);
      ops = { reads: store.reads, writes: store.writes, lists: store.lists, listed: store.listed };
    }
    store.reset();
    const rebuild = await timed(() => fullRebuild(store, privateKey));
    const publishMs = median(runs);
    report("publish one release (median of 3)", `${publishMs.toFixed(1)} ms`);
    report("  store objects read / written", `${ops.reads} / ${ops.writes}`);
    report("  listings / keys listed", `${ops.lists} / ${ops.listed}`);
    report("full rebuild from all tarballs (baseline)", `${rebuild.ms.toFixed(0)} ms`);
    report("  store objects read / written", `${store.reads} / ${store.writes}`);
    report("speed-up of publish over full rebuild", `${(rebuild.ms / publishMs).toFixed(1)}×`);
  } finally {
    tmp.cleanup();
  }
}

function signing(): void {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const releases: Release[] = [];
  for (let i = 0; i < 500; i++) {
    releases.push({
      version: `${Math.floor(i / 50)}.${i % 50}.0`,
      innerChecksum: new Uint8Array(32).fill(i % 256),
      outerChecksum: new Uint8Array(32).fill((i * 7) % 256),
      dependencies: [
        { package: "jason", requirement: "~> 1.4", repository: "hexpm" },
        { package: "telemetry", requirement: "~> 0.4 or ~> 1.0", optional: true },
      ],
      ...(i % 25 === 0 ? { retired: { reason: "security" as const, message: "CVE" } } : {}),
    });
  }
  const pkg: Package = { name: "big", repository: REPO, releases };
  const N = 50;
  const encodeOnly = (() => {
    const t0 = performance.now();
    let size = 0;
    for (let i = 0; i < N; i++) size = encodePackage(pkg).length;
    return { ms: (performance.now() - t0) / N, size };
  })();
  const full = (() => {
    const t0 = performance.now();
    let size = 0;
    for (let i = 0; i < N; i++) size = signPackage(pkg, privateKey).length;
    return { ms: (performance.now() - t0) / N, size };
  })();
  report("packages/<name> with 500 releases: protobuf size", `${(encodeOnly.size / 1024).toFixed(1)} KiB (gzip'd signed ${(full.size / 1024).toFixed(1)} KiB)`);
  report("  encode only (baseline)", `${encodeOnly.ms.toFixed(2)} ms/op`);
  report("  encode + sign + gzip", `${full.ms.toFixed(2)} ms/op (${(1000 / full.ms).toFixed(0)} packages/s, ${(full.ms / encodeOnly.ms).toFixed(1)}× encode)`);
}

await incremental();
signing();
