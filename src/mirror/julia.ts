import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { readManifest, type ManifestPackage } from "../julia/manifest.js";
import { parseTriplet, platformMatches, type PlatformKeys } from "../julia/platform.js";
import { parseRegistries, readArtifactsToml, readRegistryToml, type ArtifactInfo } from "../julia/registry-toml.js";
import { DEFAULT_TAR_LIMITS } from "../julia/tar-reader.js";
import { scanTar } from "../julia/tar-tree-hash.js";
import { PACKAGE_RULES, REGISTRY_RULES, type TreeHashRules } from "../julia/tree-model.js";
import type { HttpAuth } from "../net/http-auth.js";
import { gunzipFile } from "../publish/gzip-file.js";
import { mirrorArtifact } from "../publish/julia-artifact.js";
import { verifyTarball } from "../publish/julia-tarball.js";
import { CONSERVATIVE_KEY, setRegistryLine, type PointerOutcome } from "../publish/registries-pointer.js";
import { putOnce } from "../store/put-once.js";
import type { Store } from "../store/store.js";
import { fetchBytes, fetchToFile, joinUrl, type MirrorFetchOptions } from "./fetch.js";
import { JULIA_RECORD_KEY, mergeBy, readRecord, writeRecord, type JuliaMirrorRecord } from "./record.js";

export interface JuliaMirrorOptions {
  manifests: Array<{ file: string; text: string }>;
  /** The upstream Pkg server (pkg.julialang.org, or another pkgpub serve). */
  upstream: string;
  store: Store;
  /** Triplets to keep platform-specific artifacts for; none means every platform. */
  platforms?: string[];
  auth?: HttpAuth;
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxPackageBytes?: number;
  maxRegistryBytes?: number;
  log?: (line: string) => void;
}

export interface MirrorFailure {
  /** The package and version (or registry, artifact) that failed. */
  what: string;
  reason: string;
}

export interface JuliaMirrorReport {
  /** Keys written by this run, in the order written. */
  written: string[];
  /** Objects the store already held (not fetched). */
  held: number;
  notes: string[];
  failed: MirrorFailure[];
  registries: Array<{ uuid: string; name: string; tree: string; pointer: PointerOutcome }>;
}

const ARTIFACT_FILES = ["JuliaArtifacts.toml", "Artifacts.toml"];
const MAX_REGISTRIES_BYTES = 1024 * 1024;

type Scan = { hash: string; files: Map<string, Buffer> };

/**
 * Mirrors what Manifest.toml files pin from an upstream Pkg server: each package tarball and
 * its artifacts, verified by tree hash before they are stored (artifacts before the package,
 * so a stored package implies its artifacts), then the upstream registries naming those
 * packages, then their `registries` lines, last. What the store holds is not fetched again.
 */
export async function mirrorJulia(options: JuliaMirrorOptions): Promise<JuliaMirrorReport> {
  const { store } = options;
  const log = options.log ?? (() => undefined);
  const net: MirrorFetchOptions = { timeoutMs: options.timeoutMs ?? 10 * 60_000, auth: options.auth, fetch: options.fetch };
  const maxPackage = options.maxPackageBytes ?? 4 * 2 ** 30;
  const maxRegistry = options.maxRegistryBytes ?? 2 ** 30;
  const platforms: PlatformKeys[] | undefined = options.platforms?.length ? options.platforms.map(parseTriplet) : undefined;
  const report: JuliaMirrorReport = { written: [], held: 0, notes: [], failed: [], registries: [] };
  const url = (rel: string) => joinUrl(options.upstream, rel);

  const wanted = new Map<string, ManifestPackage>();
  for (const m of options.manifests) {
    const manifest = readManifest(m.text, m.file);
    for (const s of manifest.skipped) report.notes.push(`${m.file}: ${s.name} skipped: ${s.reason}`);
    for (const p of manifest.packages) wanted.set(`${p.uuid}/${p.treeHash}`, p);
  }
  const stored = await readRecord<JuliaMirrorRecord>(store, JULIA_RECORD_KEY);
  const record: JuliaMirrorRecord = stored ?? { packages: [], registries: [] };
  const workDir = await mkdtemp(path.join(os.tmpdir(), "pkgpub-mirror-"));
  let n = 0;
  const temp = (what: string) => path.join(workDir, `${n++}-${what}`);

  /** Scans a stored tarball (no upstream request), or fetches, verifies and returns a new one. */
  const obtain = async (key: string, tree: string, rules: TreeHashRules, capture: (p: string) => boolean): Promise<{ scan: Scan; file?: string }> => {
    if (await store.head(key)) {
      report.held++;
      const obj = await store.get(key);
      if (!obj) throw new Error(`${key} vanished from ${store.description}`);
      const scan = await scanTar(obj.body.pipe(createGunzip()), rules, { capture });
      if (scan.hash !== tree) throw new Error(`the store's ${key} has tree hash ${scan.hash} (run pkgpub verify)`);
      return { scan };
    }
    const file = temp("tarball");
    const got = await fetchToFile(url(key), file, key.startsWith("registry/") ? maxRegistry : maxPackage, net);
    if (!got) throw new Error(`the upstream has no ${key} (404)`);
    const scan = await scanTar(gunzipFile(file), rules, { capture, limits: DEFAULT_TAR_LIMITS });
    if (scan.hash !== tree) throw new Error(`upstream ${key}: tarball tree hash ${scan.hash} does not match ${tree}; refused, not stored`);
    return { scan, file };
  };

  const artifactsDone = new Set<string>();
  const mirrorOneArtifact = async (a: ArtifactInfo): Promise<void> => {
    const key = `artifact/${a.treeHash}`;
    if (artifactsDone.has(key)) return;
    if (await store.head(key)) {
      report.held++;
      artifactsDone.add(key);
      return;
    }
    const file = temp("artifact");
    const got = await fetchToFile(url(key), file, maxPackage, net);
    if (got) {
      await verifyTarball(file, a.treeHash, PACKAGE_RULES).catch((err: Error) => {
        throw new Error(`artifact ${a.label}: upstream ${key}: ${err.message}; refused, not stored`);
      });
      if ((await putOnce(store, key, { path: file }, { contentType: "application/x-gzip" })) === "created") report.written.push(key);
    } else if (a.downloads.length > 0) {
      // Not on the upstream Pkg server: from its own download URLs (sha256 and tree hash checked).
      const outcome = await mirrorArtifact(a, store, workDir, { maxBytes: maxPackage, timeoutMs: net.timeoutMs, tar: DEFAULT_TAR_LIMITS, auth: options.auth, ...(options.fetch ? { fetch: options.fetch } : {}) });
      if (outcome === "created") report.written.push(key);
    } else {
      throw new Error(`artifact ${a.label} (${a.treeHash}): the upstream has none and Artifacts.toml gives no download`);
    }
    artifactsDone.add(key);
  };

  const mirrored: JuliaMirrorRecord["packages"] = [];
  try {
    for (const p of [...wanted.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const what = `${p.name}${p.version ? ` v${p.version}` : ""} (${p.uuid} tree ${p.treeHash})`;
      const key = `package/${p.uuid}/${p.treeHash}`;
      try {
        const { scan, file } = await obtain(key, p.treeHash, PACKAGE_RULES, (f) => ARTIFACT_FILES.includes(f));
        for (const name of ARTIFACT_FILES) {
          const toml = scan.files.get(name);
          if (!toml) continue;
          for (const a of readArtifactsToml(toml.toString("utf8"), `${key} ${name}`)) {
            if (platforms && a.platform && Object.keys(a.platform).length > 0 && !platforms.some((w) => platformMatches(a.platform!, w))) continue;
            await mirrorOneArtifact(a);
          }
        }
        if (file && (await putOnce(store, key, { path: file }, { contentType: "application/x-gzip" })) === "created") {
          report.written.push(key);
          log(`stored ${key} (${p.name})`);
        }
        mirrored.push({ name: p.name, uuid: p.uuid, ...(p.version ? { version: p.version } : {}), tree: p.treeHash, upstream: options.upstream });
      } catch (err) {
        report.failed.push({ what, reason: (err as Error).message });
      }
    }

    // The upstream's registries that name a mirrored package; the pointer lines come last.
    const listing = mirrored.length > 0 ? await fetchBytes(url("registries"), MAX_REGISTRIES_BYTES, net) : Buffer.alloc(0);
    if (!listing) report.notes.push(`${options.upstream} serves no /registries; no registry mirrored`);
    const mirroredUuids = new Set(mirrored.map((m) => m.uuid));
    const named = new Set<string>();
    const registries: JuliaMirrorRecord["registries"] = [];
    for (const [uuid, tree] of parseRegistries(listing?.toString("utf8") ?? "")) {
      const key = `registry/${uuid}/${tree}`;
      try {
        const { scan, file } = await obtain(key, tree, REGISTRY_RULES, (f) => f === "Registry.toml");
        const info = readRegistryToml(scan.files.get("Registry.toml")?.toString("utf8") ?? "", `${key} Registry.toml`);
        if (info.uuid !== uuid) throw new Error(`${key}: its Registry.toml says uuid ${info.uuid}`);
        const ours = info.packages.filter((p) => mirroredUuids.has(p.uuid));
        if (ours.length === 0) continue;
        for (const p of ours) named.add(p.uuid);
        if (file && (await putOnce(store, key, { path: file }, { contentType: "application/x-gzip" })) === "created") report.written.push(key);
        const pointer = await setRegistryLine(store, uuid, tree, async (published) =>
          record.registries.some((r) => r.uuid === uuid && r.tree === published) ? "replace" : "keep",
        );
        // A mirror holds what lock files name, never all of a registry: its line goes in both
        // flavours, or default (conservative) clients of a store with its own registries lose it.
        if (pointer !== "kept-newer") await setRegistryLine(store, uuid, tree, async (published) => (record.registries.some((r) => r.uuid === uuid && r.tree === published) ? "replace" : "keep"), 1000, CONSERVATIVE_KEY);
        if (pointer === "moved") report.written.push(`registries (${info.name})`);
        if (pointer === "kept-newer") report.notes.push(`registry ${info.name} (${uuid}): the store publishes its own tree for this uuid; kept, the upstream's tree is stored but not listed`);
        else registries.push({ name: info.name, uuid, tree, upstream: options.upstream });
        report.registries.push({ uuid, name: info.name, tree, pointer });
      } catch (err) {
        report.failed.push({ what: `registry ${uuid} tree ${tree}`, reason: (err as Error).message });
      }
    }
    for (const m of mirrored) {
      if (!named.has(m.uuid)) report.notes.push(`${m.name} (${m.uuid}) is stored, but no upstream registry names it`);
    }
    const next: JuliaMirrorRecord = {
      packages: mergeBy(record.packages, mirrored, (x) => `${x.uuid}/${x.tree}`),
      registries: mergeBy(record.registries, registries, (x) => `${x.uuid}/${x.tree}`),
    };
    if ((stored || mirrored.length > 0) && (await writeRecord(store, JULIA_RECORD_KEY, next))) report.written.push(JULIA_RECORD_KEY);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return report;
}
