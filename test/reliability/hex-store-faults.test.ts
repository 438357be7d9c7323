import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/store/fs-store.js";
import { FaultyStore, type FaultMode } from "../support/faulty-store.js";
import { tempDir } from "../support/git-repo.js";
import { contents, copyStoreDir } from "./support/julia-world.js";
import { hexState, makeHexWorld, missingReleases, publishHexTarball, type HexWorld } from "./support/hex-world.js";

const OLD: Array<[string, string]> = [
  ["foo", "0.1.0"],
  ["bar", "0.1.0"],
];
const ALL: Array<[string, string]> = [...OLD, ["foo", "0.2.0"]];

/**
 * Invariant 2 for Hex: publishing foo 0.2.0 into a repository that serves foo 0.1.0 and bar
 * 0.1.0, with one fault in the k-th store operation, for every k of a clean run and each kind
 * of fault. Afterwards every index decodes, is signed by the repository's key and names only
 * present, verifying tarballs; the old releases are all still served with the same bytes; and
 * a plain re-run converges on what a clean run writes.
 */
describe("hex publish with a fault in the k-th store operation (directory store)", () => {
  const tmp = tempDir("pkgpub-rel-hex-");
  let world: HexWorld;
  const base = path.join(tmp.dir, "base-store");
  let before: Map<string, Buffer>;
  let cleanOps: string[];
  let cleanKeys: string[];
  let n = 0;

  beforeAll(async () => {
    world = makeHexWorld(tmp.dir);
    const store = new FsStore(base);
    for (const [name, version] of OLD) await publishHexTarball(world, store, name, version);
    before = await contents(store);
    const dir = path.join(tmp.dir, "clean");
    copyStoreDir(base, dir);
    const counted = new FaultyStore(new FsStore(dir));
    await publishHexTarball(world, counted, "foo", "0.2.0");
    cleanOps = counted.ops;
    cleanKeys = [...(await contents(counted.inner)).keys()].sort();
  });
  afterAll(() => tmp.cleanup());

  it("a clean run writes the tarball first, then packages/foo, then versions (names already lists foo)", () => {
    const writes = cleanOps.filter((op) => op.startsWith("put "));
    expect(writes).toEqual(["put repos/acme/tarballs/foo-0.2.0.tar", "put repos/acme/packages/foo", "put repos/acme/versions"]);
    expect(cleanOps.length).toBeGreaterThan(10);
  });

  it.each<FaultMode>(["fail", "hang", "truncate"])("%s at every k: old releases served, indexes consistent, re-run converges", async (mode) => {
    const outcomes: string[] = [];
    for (let k = 1; k <= cleanOps.length; k++) {
      const dir = path.join(tmp.dir, `run-${n++}`);
      copyStoreDir(base, dir);
      const inner = new FsStore(dir);
      const store = new FaultyStore(inner, { k, mode });
      const result = await publishHexTarball(world, store, "foo", "0.2.0").then(
        (r) => `finished (${r.tarball})`,
        (err: Error) => `threw: ${err.message}`,
      );
      const label = `k=${k} (${store.hit}): ${result}`;
      const after = await hexState(world, inner);
      expect(after.problems, label).toEqual([]);
      expect(missingReleases(after.indexes, OLD), label).toEqual([]);
      const now = await contents(inner);
      for (const [key, bytes] of before) {
        if (/\/(names|versions|packages\/[^/]+)$/.test(key)) continue; // mutable indexes, checked above
        expect(now.get(key)?.equals(bytes), `${label}: ${key} kept`).toBe(true);
      }

      await publishHexTarball(world, inner, "foo", "0.2.0");
      const converged = await hexState(world, inner);
      expect(converged.problems, label).toEqual([]);
      expect(missingReleases(converged.indexes, ALL), label).toEqual([]);
      expect([...(await contents(inner)).keys()].sort(), label).toEqual(cleanKeys);
      // Invariant 4: once converged, another run writes nothing.
      const idle = new FaultyStore(inner);
      await publishHexTarball(world, idle, "foo", "0.2.0");
      expect(idle.ops.filter((op) => !/^(head|get|list) /.test(op)), label).toEqual([]);
      outcomes.push(result);
    }
    console.log(`hex ${mode}: ${cleanOps.length} operations, ${outcomes.filter((o) => o.startsWith("threw")).length} runs failed, ${outcomes.filter((o) => o.startsWith("finished")).length} finished`);
  });
});
