import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyJuliaStore } from "../../src/publish/julia-verify.js";
import type { Store } from "../../src/store/store.js";
import { FaultyStore, type FaultMode } from "../support/faulty-store.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores } from "../support/stores.js";
import { hexState, makeHexWorld, missingReleases, publishHexTarball, type HexWorld } from "./support/hex-world.js";
import { contents, juliaProblems, makeJuliaWorld, pointers, publishJulia, REGISTRY_UUID, type JuliaWorld } from "./support/julia-world.js";
import { FULL, LONG_TEST_MS, seed } from "./support/kill.js";

const s3Env = inject("s3Env");
/** Every k and kind under `npm run test:reliability`; every fourth k, fail only, in `npm test` (Swift is slow). */
const STRIDE = FULL ? 1 : 4;
const MODES: FaultMode[] = FULL ? ["fail", "hang", "truncate"] : ["fail"];

/**
 * The store fault sweeps of julia-store-faults and hex-store-faults against the S3 test server
 * (no conditional writes: putOnce checks then writes, Hex indexes write then re-check). Each k
 * starts from a fresh bucket seeded with the previous state.
 */
describe("publishes with a fault in the k-th operation of the S3 store", () => {
  const tmp = tempDir("pkgpub-rel-s3faults-");
  let julia: JuliaWorld;
  let hex: HexWorld;
  let juliaBefore: Map<string, Buffer>;
  let hexBefore: Map<string, Buffer>;
  let n = 0;
  const fresh = async (objects: Map<string, Buffer>): Promise<Store> => {
    const { store } = await openTestStores("s3", path.join(tmp.dir, `b${n++}`), s3Env);
    await seed(store, objects);
    return store;
  };

  beforeAll(async () => {
    julia = await makeJuliaWorld(path.join(tmp.dir, "julia"));
    hex = makeHexWorld(tmp.dir);
    const j = await fresh(new Map());
    await publishJulia(julia, j, "state-a");
    await publishJulia(julia, j, undefined, julia.other);
    juliaBefore = await contents(j);
    const h = await fresh(new Map());
    for (const name of ["foo", "bar"]) await publishHexTarball(hex, h, name, "0.1.0");
    hexBefore = await contents(h);
  });
  afterAll(async () => {
    await julia?.close();
    tmp.cleanup();
  });

  it.each(MODES)("julia, %s", async (mode) => {
    const counted = new FaultyStore(await fresh(juliaBefore));
    expect((await publishJulia(julia, counted)).failed).toEqual([]);
    const ops = counted.ops.length;
    for (let k = 1; k <= ops; k += STRIDE) {
      const inner = await fresh(juliaBefore);
      const store = new FaultyStore(inner, { k, mode });
      const result = await publishJulia(julia, store).then(() => "finished", (err: Error) => `threw: ${err.message}`);
      const label = `k=${k} of ${ops} (${store.hit}): ${result}`;
      expect(await juliaProblems(julia, inner, juliaBefore), label).toEqual([]);
      expect((await publishJulia(julia, inner)).failed, label).toEqual([]);
      expect((await pointers(inner)).get(REGISTRY_UUID), label).toBe(julia.treeB);
      expect((await verifyJuliaStore(inner)).problems, label).toEqual([]);
    }
  }, LONG_TEST_MS);

  it.each(MODES)("hex, %s", async (mode) => {
    const counted = new FaultyStore(await fresh(hexBefore));
    await publishHexTarball(hex, counted, "foo", "0.2.0");
    const ops = counted.ops.length;
    for (let k = 1; k <= ops; k += STRIDE) {
      const inner = await fresh(hexBefore);
      const store = new FaultyStore(inner, { k, mode });
      const result = await publishHexTarball(hex, store, "foo", "0.2.0").then(() => "finished", (err: Error) => `threw: ${err.message}`);
      const label = `k=${k} of ${ops} (${store.hit}): ${result}`;
      const after = await hexState(hex, inner);
      expect(after.problems, label).toEqual([]);
      expect(missingReleases(after.indexes, [["foo", "0.1.0"], ["bar", "0.1.0"]]), label).toEqual([]);
      await publishHexTarball(hex, inner, "foo", "0.2.0");
      const converged = await hexState(hex, inner);
      expect(converged.problems, label).toEqual([]);
      expect(missingReleases(converged.indexes, [["foo", "0.1.0"], ["bar", "0.1.0"], ["foo", "0.2.0"]]), label).toEqual([]);
    }
  }, LONG_TEST_MS);
});
