import { cpSync, mkdirSync } from "node:fs";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { parseRegistries } from "../../../src/julia/registry-toml.js";
import { publishJuliaRegistry, type JuliaPublishReport } from "../../../src/publish/julia-publish.js";
import { verifyJuliaStore } from "../../../src/publish/julia-verify.js";
import type { Store } from "../../../src/store/store.js";
import { commitFiles, git, makeRepo } from "../../support/git-repo.js";
import {
  artifactsToml,
  FOO_UUID,
  fooFiles,
  makeArtifact,
  makeRegistryFixture,
  REGISTRY_UUID,
  registryToml,
  versionsToml,
  type RegistryFixture,
} from "../../julia/fixtures.js";

// Sorts after the fixture registry's uuid: its line is the second of `registries`.
export const OTHER_UUID = "fe0e0e0e-3333-4333-8333-333333333333";

/**
 * Two registries in one store: the test fixture's (Foo with an artifact, Bar in a monorepo) at
 * commit A, and a second, empty one whose line in `registries` must survive whatever happens
 * to the first. Commit B of the first adds Foo v0.3.0 with a new artifact.
 */
export interface JuliaWorld {
  fx: RegistryFixture;
  other: string;
  cacheDir: string;
  treeA: string;
  treeB: string;
  commitA: string;
  commitB: string;
  otherTree: string;
  close(): Promise<void>;
}

export async function makeJuliaWorld(root: string): Promise<JuliaWorld> {
  const fx = await makeRegistryFixture(root);
  const commitA = git(fx.dir, "rev-parse", "HEAD");
  const treeA = git(fx.dir, "rev-parse", "HEAD^{tree}");
  const other = path.join(root, "other-registry");
  makeRepo(other, { "Registry.toml": registryToml([], OTHER_UUID).replace("TestRegistry", "OtherRegistry") });
  const otherTree = git(other, "rev-parse", "HEAD^{tree}");

  const art = makeArtifact(path.join(root, "artifacts"), "libnew", { "lib/libnew.so": "new\0bytes", "share/doc.txt": "doc\n" });
  const v3 = commitFiles(fx.fooRepo, fooFiles("0.3.0", artifactsToml(art, fx.artifactServer.url)), "Foo v0.3.0");
  const b = commitFiles(
    fx.dir,
    {
      "F/Foo/Versions.toml": versionsToml([
        { version: "0.1.0", tree: fx.fooTrees["0.1.0"]!, yanked: true },
        { version: "0.2.0", tree: fx.fooTrees["0.2.0"]! },
        { version: "0.3.0", tree: v3.tree },
      ]),
    },
    "Foo v0.3.0",
  );
  // Commit A stays reachable for publishing by ref.
  git(fx.dir, "tag", "state-a", commitA);
  const cacheDir = path.join(root, "git-cache");
  mkdirSync(cacheDir, { recursive: true });
  return { fx, other, cacheDir, treeA, treeB: b.tree, commitA, commitB: b.commit, otherTree, close: () => fx.artifactServer.close() };
}

export function publishJulia(world: JuliaWorld, store: Store, ref?: string, registry = world.fx.dir): Promise<JuliaPublishReport> {
  // The fixture's artifact server is on loopback, which a publish refuses by default.
  return publishJuliaRegistry({ registry, ref, store, cacheDir: world.cacheDir, concurrency: 2, limits: { network: { publicOnly: false, allowHosts: [], redirectHosts: [] } } });
}

/** Every object in the store (temp and probe keys aside) with its bytes. */
export async function contents(store: Store): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const o of store.list("")) {
    if (o.key.startsWith(".") || o.key.includes("/.")) continue;
    const obj = await store.get(o.key);
    if (obj) out.set(o.key, await buffer(obj.body));
  }
  return out;
}

export async function pointers(store: Store): Promise<Map<string, string>> {
  const obj = await store.get("registries");
  return parseRegistries(obj ? (await buffer(obj.body)).toString("utf8") : "");
}

/**
 * What must hold after any failure: every index names only objects that are present and
 * verify; the other registry's line is intact; the fixture's registry is at A or at B; every
 * object of the previous state is still there with the same bytes.
 */
export async function juliaProblems(world: JuliaWorld, store: Store, before: Map<string, Buffer>, allowed: Array<string | undefined> = [world.treeA, world.treeB]): Promise<string[]> {
  const problems = [...(await verifyJuliaStore(store)).problems];
  const lines = await pointers(store);
  if (lines.get(OTHER_UUID) !== world.otherTree) problems.push(`registries lost the other registry's line: ${JSON.stringify([...lines])}`);
  const ours = lines.get(REGISTRY_UUID);
  if (!allowed.includes(ours)) problems.push(`registries names ${ours} for the fixture registry (not one of ${allowed.join(", ")})`);
  const now = await contents(store);
  for (const [key, bytes] of before) {
    if (key === "registries" || key === "registries.conservative") continue;
    const got = now.get(key);
    if (!got) problems.push(`${key}: lost`);
    else if (!got.equals(bytes)) problems.push(`${key}: replaced by different bytes`);
  }
  return problems;
}

export function copyStoreDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

export { FOO_UUID, REGISTRY_UUID };
