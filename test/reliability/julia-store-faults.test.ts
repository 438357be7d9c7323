import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyJuliaStore } from "../../src/publish/julia-verify.js";
import { FsStore } from "../../src/store/fs-store.js";
import { FaultyStore, type FaultMode } from "../support/faulty-store.js";
import { tempDir } from "../support/git-repo.js";
import { contents, copyStoreDir, juliaProblems, makeJuliaWorld, pointers, publishJulia, REGISTRY_UUID, type JuliaWorld } from "./support/julia-world.js";

/**
 * Invariant 2 for Julia: a publish of commit B over a store serving commit A (and a second
 * registry), and one of the whole registry into a store holding only the second registry, get
 * one fault in the k-th store operation, for every k of a clean run and each kind of fault. Afterwards the store verifies, still serves A (or B, complete), and a plain
 * re-run converges on exactly what a clean run writes.
 */
describe.each([
  { from: "A", label: "commit B over a store serving commit A" },
  { from: "empty", label: "the whole registry into a store holding only another registry" },
])("julia publish of $label, with a fault in the k-th store operation (directory store)", ({ from }) => {
  const tmp = tempDir("pkgpub-rel-julia-");
  let world: JuliaWorld;
  const base = path.join(tmp.dir, "base-store");
  let before: Map<string, Buffer>;
  let cleanKeys: string[];
  let cleanOps: string[];
  let n = 0;

  beforeAll(async () => {
    world = await makeJuliaWorld(tmp.dir);
    const store = new FsStore(base);
    if (from === "A") expect((await publishJulia(world, store, "state-a")).failed).toEqual([]);
    expect((await publishJulia(world, store, undefined, world.other)).failed).toEqual([]);
    before = await contents(store);
    const dir = path.join(tmp.dir, "clean");
    copyStoreDir(base, dir);
    const counted = new FaultyStore(new FsStore(dir));
    const report = await publishJulia(world, counted);
    expect(report.failed).toEqual([]);
    expect(report.registry.pointer).toBe("moved");
    cleanOps = counted.ops;
    cleanKeys = [...(await contents(counted.inner)).keys()].sort();
  });
  afterAll(async () => {
    await world?.close();
    tmp.cleanup();
  });

  it("a clean run of the publish touches blobs before the registry tarball, and that before the pointer", () => {
    const writes = cleanOps.filter((op) => op.startsWith("put "));
    // The conservative pointer last: it lags the eager one, never runs ahead of it.
    expect(writes.at(-1)).toBe("put registries.conservative");
    expect(writes.at(-2)).toBe("put registries");
    expect(writes.at(-3)).toMatch(/^put registry\//);
    expect(writes.slice(0, -3).every((w) => /^put (package|artifact)\//.test(w))).toBe(true);
    expect(cleanOps.length).toBeGreaterThan(from === "A" ? 8 : 15);
  });

  it.each<FaultMode>(["fail", "hang", "truncate"])("%s at every k: old state kept or new state complete, and a re-run converges", async (mode) => {
    const outcomes: string[] = [];
    for (let k = 1; k <= cleanOps.length; k++) {
      const dir = path.join(tmp.dir, `run-${n++}`);
      copyStoreDir(base, dir);
      const inner = new FsStore(dir);
      const store = new FaultyStore(inner, { k, mode });
      const result = await publishJulia(world, store).then(
        (r) => `finished (${r.failed.length} failed versions, pointer ${r.registry.pointer})`,
        (err: Error) => `threw: ${err.message}`,
      );
      const label = `k=${k} (${store.hit}): ${result}`;
      outcomes.push(label);
      expect(await juliaProblems(world, inner, before, from === "A" ? [world.treeA, world.treeB] : [undefined, world.treeB]), label).toEqual([]);

      const again = await publishJulia(world, inner);
      expect(again.failed, label).toEqual([]);
      expect((await pointers(inner)).get(REGISTRY_UUID), label).toBe(world.treeB);
      expect((await verifyJuliaStore(inner)).problems, label).toEqual([]);
      expect([...(await contents(inner)).keys()].sort(), label).toEqual(cleanKeys);
      // Invariant 4: once converged, another run writes nothing.
      const idle = new FaultyStore(inner);
      await publishJulia(world, idle);
      expect(idle.ops.filter((op) => !/^(head|get|list) /.test(op)), label).toEqual([]);
    }
    expect(outcomes).toHaveLength(cleanOps.length);
    console.log(`julia from ${from}, ${mode}: ${cleanOps.length} operations, ${outcomes.filter((o) => o.includes("threw")).length} runs failed, ${outcomes.filter((o) => o.includes("finished")).length} finished`);
  });
});
