// Which package versions of a registry tree a publish must look at: every one (the full scan),
// or only those of the packages whose files changed since the tree the store already publishes
// (the incremental scan, whose cost follows the change and not the size of the registry).
import path from "node:path";
import type { GitRepository, TreeChange } from "../git/repository.js";
import {
  findRegistryEntry,
  readPackageToml,
  readRegistryHeader,
  readRegistryToml,
  readVersionsToml,
  type PackageInfo,
  type RegistryInfo,
  type VersionInfo,
} from "../julia/registry-toml.js";
import type { Store } from "../store/store.js";
import { readPublishedTrees, REGISTRIES_KEY } from "./registries-pointer.js";

export interface PackageWork {
  info: PackageInfo;
  versions: VersionInfo[];
}

export interface ScanFailure {
  package: string;
  reason: string;
}

/** What the scan looked at, for logs, reports and the tests that hold its cost down. */
export interface ScanReport {
  mode: "incremental" | "full";
  /** Why the full scan was used. */
  reason?: string;
  /** The published tree the incremental scan compared against. */
  since?: string;
  /** Package directories whose Package.toml and Versions.toml were read. */
  packages: number;
  /** git objects read and git processes started by the scan (the tarballs not included). */
  gitObjects: number;
  gitCommands: number;
}

export interface Scan {
  name: string;
  uuid: string;
  /** Versions the store lacks, per package. */
  work: PackageWork[];
  /** Versions looked at and already in the store. */
  skipped: number;
  failed: ScanFailure[];
  report: ScanReport;
}

/** Above this many changed packages one listing of every package key is cheaper than one per package. */
const LIST_PER_PACKAGE_UP_TO = 200;

/**
 * Scans the registry tree: incrementally when the store publishes an older tree of the same
 * registry that the repository has, else (or when `full`) every package. `pointerKey` is the
 * listing whose tree is compared against (the conservative one when certifying a commit).
 */
export async function scanRegistry(
  registry: GitRepository,
  tree: string,
  commit: string,
  store: Store,
  full: boolean,
  log: (line: string) => void,
  pointerKey = REGISTRIES_KEY,
): Promise<Scan> {
  const start = { ...registry.counts };
  const finish = (scan: Omit<Scan, "report">, report: Omit<ScanReport, "gitObjects" | "gitCommands">): Scan => ({
    ...scan,
    report: { ...report, gitObjects: registry.counts.objects - start.objects, gitCommands: registry.counts.commands - start.commands },
  });
  const [entry] = await registry.lsPaths(tree, ["Registry.toml"]);
  if (!entry || entry.type !== "blob") throw new Error(`${registry.display} has no Registry.toml at ${commit}`);
  const text = (await registry.readBlob(entry.hash)).toString("utf8");
  const registryFile = new RegistryFile(text);
  const { name, uuid } = registryFile.header();

  const fullScan = async (reason: string): Promise<Scan> => {
    log(`registry ${name} (${uuid}) at ${commit.slice(0, 12)}: scanning every package (${reason})`);
    const result = await scanAll(registry, tree, registryFile.all(), store);
    return finish({ name, uuid, ...result }, { mode: "full", reason, packages: result.packages });
  };
  if (full) return fullScan("--full");
  const since = (await readPublishedTrees(store, pointerKey)).get(uuid);
  if (since === undefined) return fullScan("the store publishes no tree of this registry yet");
  if (since === tree) {
    log(`registry ${name} (${uuid}) at ${commit.slice(0, 12)}: the store already publishes this tree`);
    return finish({ name, uuid, work: [], skipped: 0, failed: [] }, { mode: "incremental", since, packages: 0 });
  }
  if (!(await registry.hasObject(since, "tree"))) return fullScan(`the published tree ${since} is not in the repository`);
  const changes = await registry.diffTrees(since, tree);
  const registryChange = changes.find((c) => c.path === "Registry.toml");
  if (registryChange) {
    if (registryChange.oldHash === "0".repeat(40)) return fullScan(`the published tree ${since} has no Registry.toml`);
    let before: { uuid: string } | undefined;
    try {
      const oldText = new RegistryFile((await registry.readBlob(registryChange.oldHash)).toString("utf8"));
      before = oldText.header();
    } catch {
      before = undefined;
    }
    if (before?.uuid !== uuid) return fullScan(`the published tree ${since} is not a tree of this registry`);
    // Packages were added, removed or moved: every entry is checked, as in a full scan.
    registryFile.all();
  }
  const result = await scanSome(registry, tree, packageDirectories(changes), registryFile, changes, store);
  log(`registry ${name} (${uuid}) at ${commit.slice(0, 12)}: ${result.packages} packages changed since the published tree ${since.slice(0, 12)}`);
  return finish({ name, uuid, ...result }, { mode: "incremental", since, packages: result.packages });
}

/** Registry.toml, parsed only as far as needed: the header, one entry, or (when it must) all of it. */
class RegistryFile {
  private parsed?: RegistryInfo;
  private byPath?: Map<string, RegistryInfo["packages"][number]>;

  constructor(readonly text: string) {}

  header(): { name: string; uuid: string } {
    return readRegistryHeader(this.text) ?? this.all();
  }

  all(): RegistryInfo {
    this.parsed ??= readRegistryToml(this.text);
    return this.parsed;
  }

  get whole(): boolean {
    return this.parsed !== undefined;
  }

  /** The entry registered at this directory, if any. */
  entryAt(dir: string, uuid: string): RegistryInfo["packages"][number] | undefined {
    if (!this.parsed) {
      const line = findRegistryEntry(this.text, uuid);
      if (line && line.path === dir) return line;
    }
    this.byPath ??= new Map(this.all().packages.map((p) => [p.path, p]));
    return this.byPath.get(dir);
  }
}

/** The directories holding changed files, top-level files (Registry.toml, README…) aside. */
function packageDirectories(changes: readonly TreeChange[]): string[] {
  const dirs = new Set<string>();
  for (const c of changes) {
    const dir = path.posix.dirname(c.path);
    if (dir !== ".") dirs.add(dir);
  }
  return [...dirs].sort();
}

async function readTexts(registry: GitRepository, files: ReadonlyArray<readonly [string, string]>): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  // One pipelined pass: a round trip per file would dominate for thousands of them.
  const seq = registry.sequence(files.map(([, h]) => h));
  try {
    for (const [p, h] of files) texts.set(p, (await seq.read(h)).toString("utf8"));
  } finally {
    seq.close();
  }
  return texts;
}

interface Listed {
  has(key: string): boolean;
}

/** One package's versions checked against the store: the missing ones become work. */
function checkPackage(
  entry: { uuid: string; name: string; path: string },
  texts: Map<string, string>,
  existing: Listed,
  out: { work: PackageWork[]; skipped: number; failed: ScanFailure[] },
): void {
  const p = entry;
  try {
    const pkgText = texts.get(`${p.path}/Package.toml`);
    const verText = texts.get(`${p.path}/Versions.toml`);
    if (pkgText === undefined) throw new Error(`${p.path}/Package.toml is missing`);
    const pkg = readPackageToml(pkgText, `${p.path}/Package.toml`);
    if (pkg.uuid !== p.uuid) throw new Error(`${p.path}/Package.toml: uuid ${pkg.uuid} differs from Registry.toml's ${p.uuid}`);
    if (pkg.name !== p.name) throw new Error(`${p.path}/Package.toml: name ${pkg.name} differs from Registry.toml's ${p.name}`);
    const versions = verText === undefined ? [] : readVersionsToml(verText, `${p.path}/Versions.toml`);
    const missing = versions.filter((v) => !existing.has(`package/${pkg.uuid}/${v.treeHash}`));
    out.skipped += versions.length - missing.length;
    if (missing.length > 0) out.work.push({ info: pkg, versions: missing });
  } catch (err) {
    out.failed.push({ package: p.name, reason: (err as Error).message });
  }
}

async function listKeys(store: Store, prefix: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const o of store.list(prefix)) keys.add(o.key);
  return keys;
}

/** Every package of Registry.toml, against one listing of every package key. */
async function scanAll(registry: GitRepository, tree: string, info: RegistryInfo, store: Store) {
  const blobs = new Map<string, string>();
  for (const e of await registry.lsTree(tree)) if (e.type === "blob") blobs.set(e.path, e.hash);
  const texts = await readTexts(registry, [...blobs].filter(([p]) => /^[^/].*\/(Package|Versions)\.toml$/.test(p)));
  const existing = await listKeys(store, "package/");
  const out = { work: [] as PackageWork[], skipped: 0, failed: [] as ScanFailure[] };
  for (const p of info.packages) checkPackage(p, texts, existing, out);
  return { ...out, packages: info.packages.length };
}

/** Only the packages in these directories, against listings of their own keys. */
async function scanSome(registry: GitRepository, tree: string, dirs: readonly string[], registryFile: RegistryFile, changes: readonly TreeChange[], store: Store) {
  const out = { work: [] as PackageWork[], skipped: 0, failed: [] as ScanFailure[] };
  const entries = await registry.lsPaths(tree, dirs.flatMap((d) => [`${d}/Package.toml`, `${d}/Versions.toml`]));
  const texts = await readTexts(registry, entries.filter((e) => e.type === "blob").map((e) => [e.path, e.hash] as const));
  const listed: Array<{ uuid: string; name: string; path: string }> = [];
  for (const dir of dirs) {
    const pkgText = texts.get(`${dir}/Package.toml`);
    let uuid: string | undefined;
    if (pkgText !== undefined) {
      try {
        uuid = readPackageToml(pkgText, `${dir}/Package.toml`).uuid;
      } catch {
        uuid = undefined; // checkPackage names the error, if the directory is a registered one
      }
    } else if (!registryFile.whole && !changes.some((c) => c.path === `${dir}/Package.toml` && c.status === "D")) {
      continue; // never a package directory (CI files, say)
    }
    const entry = registryFile.entryAt(dir, uuid ?? "");
    if (entry) listed.push(entry);
  }
  const existing: Listed =
    listed.length > LIST_PER_PACKAGE_UP_TO ? await listKeys(store, "package/") : await unionOf(listed.map((p) => listKeys(store, `package/${p.uuid}/`)));
  for (const p of listed) checkPackage(p, texts, existing, out);
  return { ...out, packages: listed.length };
}

async function unionOf(sets: Array<Promise<Set<string>>>): Promise<Listed> {
  const all = await Promise.all(sets);
  return { has: (key) => all.some((s) => s.has(key)) };
}
