import { finished } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import {
  parseRegistries,
  readArtifactsToml,
  readPackageToml,
  readRegistryToml,
  readVersionsToml,
} from "../julia/registry-toml.js";
import { scanTar } from "../julia/tar-tree-hash.js";
import { PACKAGE_RULES, REGISTRY_RULES, type TreeHashRules } from "../julia/tree-model.js";
import type { Store } from "../store/store.js";
import { CONSERVATIVE_KEY, REGISTRIES_KEY } from "./registries-pointer.js";

export interface VerifyReport {
  checked: number;
  problems: string[];
}

type Scan = { hash: string; files: Map<string, Buffer> };

/** Reads a stored tarball and checks its tree hash; null (with a problem noted) when it is missing or wrong. */
async function checkTarball(
  store: Store,
  key: string,
  expected: string,
  rules: TreeHashRules,
  problems: string[],
  options: { what?: string; capture?: (p: string) => boolean } = {},
): Promise<Scan | null> {
  const { capture } = options;
  const suffix = options.what ? ` (${options.what})` : "";
  let obj;
  try {
    obj = await store.get(key);
  } catch (err) {
    problems.push(`${key}: unreadable: ${(err as Error).message}${suffix}`);
    return null;
  }
  if (!obj) {
    problems.push(`${key}: missing${suffix}`);
    return null;
  }
  try {
    const gunzip = obj.body.pipe(createGunzip());
    const scan = await scanTar(gunzip.iterator({ destroyOnReturn: false }), rules, { capture });
    // The tar ends at its zero blocks; a gzip stream cut after them still fails clients.
    gunzip.resume();
    await finished(gunzip);
    if (scan.hash !== expected) {
      problems.push(`${key}: tree hash is ${scan.hash}${suffix}`);
      return null;
    }
    return scan;
  } catch (err) {
    obj.body.destroy();
    problems.push(`${key}: unreadable: ${(err as Error).message}${suffix}`);
    return null;
  }
}

async function listedTrees(store: Store): Promise<Array<[string, string]>> {
  const out = new Map<string, [string, string]>();
  for (const key of [REGISTRIES_KEY, CONSERVATIVE_KEY]) {
    const obj = await store.get(key);
    if (!obj) continue;
    const parts: Buffer[] = [];
    for await (const c of obj.body) parts.push(c as Buffer);
    for (const [uuid, tree] of parseRegistries(Buffer.concat(parts).toString("utf8"))) out.set(`${uuid}/${tree}`, [uuid, tree]);
  }
  return [...out.values()];
}

/**
 * Checks every object the store's `registries` and `registries.conservative` name, down to
 * artifacts: present, readable, and with the tree hash Pkg will compute.
 */
export async function verifyJuliaStore(store: Store, log: (line: string) => void = () => undefined): Promise<VerifyReport> {
  const problems: string[] = [];
  let checked = 0;
  const artifactsSeen = new Set<string>();
  for (const [uuid, tree] of await listedTrees(store)) {
    const registryKey = `registry/${uuid}/${tree}`;
    const reg = await checkTarball(store, registryKey, tree, REGISTRY_RULES, problems, { capture: (p) => p === "Registry.toml" || /\/(Package|Versions)\.toml$/.test(p) });
    checked++;
    if (!reg) continue;
    const text = (p: string) => reg.files.get(p)?.toString("utf8");
    let info;
    try {
      info = readRegistryToml(text("Registry.toml") ?? "", `${registryKey} Registry.toml`);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    if (info.uuid !== uuid) problems.push(`${registryKey}: Registry.toml says uuid ${info.uuid}`);
    log(`registry ${info.name} (${uuid}): ${info.packages.length} packages`);
    for (const p of info.packages) {
      try {
        const pkg = readPackageToml(text(`${p.path}/Package.toml`) ?? "", `${registryKey} ${p.path}/Package.toml`);
        const versionsText = text(`${p.path}/Versions.toml`);
        const versions = versionsText === undefined ? [] : readVersionsToml(versionsText, `${registryKey} ${p.path}/Versions.toml`);
        for (const v of versions) {
          const key = `package/${pkg.uuid}/${v.treeHash}`;
          const scan = await checkTarball(store, key, v.treeHash, PACKAGE_RULES, problems, {
            what: `${pkg.name} v${v.version}`,
            capture: (f) => f === "Artifacts.toml" || f === "JuliaArtifacts.toml",
          });
          checked++;
          if (!scan) continue;
          for (const [file, bytes] of scan.files) {
            for (const a of readArtifactsToml(bytes.toString("utf8"), `${key} ${file}`)) {
              if (a.downloads.length === 0 || artifactsSeen.has(a.treeHash)) continue;
              artifactsSeen.add(a.treeHash);
              const akey = `artifact/${a.treeHash}`;
              await checkTarball(store, akey, a.treeHash, PACKAGE_RULES, problems, { what: `artifact ${a.label} of ${pkg.name} v${v.version}` });
              checked++;
            }
          }
        }
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  return { checked, problems };
}
