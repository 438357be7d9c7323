import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseRegistries } from "../../src/julia/registry-toml.js";
import { verifyJuliaStore } from "../../src/publish/julia-verify.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { hexState, makeHexWorld, missingReleases, publishHexTarball, REPO, type HexWorld } from "./support/hex-world.js";
import { contents, juliaProblems, makeJuliaWorld, pointers, publishJulia, REGISTRY_UUID, type JuliaWorld } from "./support/julia-world.js";
import { countChanges, FULL, LONG_TEST_MS, killAfterChanges, rng, runAndKill, SEED, seed } from "./support/kill.js";

const s3Env = inject("s3Env");

/**
 * Invariant 2 against a real `pkgpub` process: SIGKILL at a random moment of a publish (after
 * a random number of the store changes it makes, seeded), on both stores. Afterwards the store is
 * consistent and still serves the previous state, and a re-run finishes the publish.
 */
describe.each<StoreKind>(["directory", "s3"])("SIGKILL during a publish (%s store)", (kind) => {
  const tmp = tempDir(`pkgpub-rel-kill-${kind}-`);
  // S3 runs are slow (Swift, and Hex's settle delays without conditional writes): fewer in `npm test`.
  const TRIALS = FULL ? 20 : kind === "s3" ? 3 : 5;
  let julia: JuliaWorld;
  let hex: HexWorld;
  let juliaBefore: Map<string, Buffer>;
  let hexBefore: Map<string, Buffer>;
  let n = 0;
  const random = rng(SEED + (kind === "s3" ? 1 : 0));
  /**
   * A kill point: after a random number of the store changes a clean run makes (none: some
   * time into start-up and the reads before the first write), then a random few milliseconds.
   */
  const killPoint = (changes: number, startMs: number) => {
    const after = Math.floor(random() * (changes + 1));
    return { after, delay: Math.round(after === 0 ? startMs * (0.5 + random() / 2) : random() * 25) };
  };

  async function freshStore(objects: Map<string, Buffer>): Promise<{ store: Store; spec: string; env: NodeJS.ProcessEnv }> {
    const opened = await openTestStores(kind, path.join(tmp.dir, `t${n++}`), s3Env);
    await seed(opened.store, objects);
    return { ...opened, env: { ...process.env, ...opened.env } };
  }

  beforeAll(async () => {
    julia = await makeJuliaWorld(path.join(tmp.dir, "julia"));
    hex = makeHexWorld(tmp.dir);
    const j = await openTestStores(kind, path.join(tmp.dir, "julia-base"), s3Env);
    await publishJulia(julia, j.store, "state-a");
    await publishJulia(julia, j.store, undefined, julia.other);
    juliaBefore = await contents(j.store);
    const h = await openTestStores(kind, path.join(tmp.dir, "hex-base"), s3Env);
    for (const name of ["foo", "bar"]) await publishHexTarball(hex, h.store, name, "0.1.0");
    hexBefore = await contents(h.store);
  });
  afterAll(async () => {
    await julia?.close();
    tmp.cleanup();
  });

  it(`julia publish killed at ${TRIALS} random points: consistent, old state served, re-run converges`, async () => {
    const args = (spec: string) => ["julia", "publish", "--registry", julia.fx.dir, "--store", spec, "--cache-dir", julia.cacheDir];
    const clean = await freshStore(juliaBefore);
    let full!: Awaited<ReturnType<typeof runAndKill>>;
    const changes = await countChanges(clean.store, async () => (full = await runAndKill(args(clean.spec), clean.env)));
    expect(full.code, full.stderr).toBe(0);
    const outcomes = { killedBefore: 0, killedMidway: 0, killedAfter: 0, finished: 0 };
    for (let t = 0; t < TRIALS; t++) {
      const at = killPoint(changes, full.ms);
      const { store, spec, env } = await freshStore(juliaBefore);
      const run = await killAfterChanges(store, args(spec), env, at.after, at.delay);
      const label = `trial ${t}: kill ${at.delay} ms after ${at.after} of ${changes} store changes (seed ${SEED})`;
      expect(await juliaProblems(julia, store, juliaBefore), label).toEqual([]);
      const now = await contents(store);
      const ours = parseRegistries(now.get("registries")?.toString() ?? "").get(REGISTRY_UUID);
      if (!run.killed) outcomes.finished++;
      else if (ours === julia.treeB) outcomes.killedAfter++;
      else if (now.size === juliaBefore.size) outcomes.killedBefore++;
      else outcomes.killedMidway++;

      const again = await publishJulia(julia, store);
      expect(again.failed, label).toEqual([]);
      expect((await pointers(store)).get(REGISTRY_UUID), label).toBe(julia.treeB);
      expect((await verifyJuliaStore(store)).problems, label).toEqual([]);
    }
    // Kills that land after the start-up of the process and before the pointer moves are the point.
    expect(outcomes.killedMidway + outcomes.killedBefore + outcomes.killedAfter + outcomes.finished).toBe(TRIALS);
    console.log(`julia ${kind}: ${changes} store changes: ${JSON.stringify(outcomes)}`);
  }, LONG_TEST_MS);

  it(`hex publish killed at ${TRIALS} random points: consistent, old releases served, re-run converges`, async () => {
    const file = hex.tarball("foo", "0.2.0");
    const args = (spec: string) => ["hex", "publish", "--repo", REPO, "--store", spec, "--private-key", hex.keyFile, "--tarball", file];
    const clean = await freshStore(hexBefore);
    let full!: Awaited<ReturnType<typeof runAndKill>>;
    const changes = await countChanges(clean.store, async () => (full = await runAndKill(args(clean.spec), clean.env)));
    expect(full.code, full.stderr).toBe(0);
    const outcomes = { unchanged: 0, partial: 0, published: 0 };
    for (let t = 0; t < TRIALS; t++) {
      const at = killPoint(changes, full.ms);
      const { store, spec, env } = await freshStore(hexBefore);
      await killAfterChanges(store, args(spec), env, at.after, at.delay);
      const label = `trial ${t}: kill ${at.delay} ms after ${at.after} of ${changes} store changes (seed ${SEED})`;
      const after = await hexState(hex, store);
      expect(after.problems, label).toEqual([]);
      expect(missingReleases(after.indexes, [["foo", "0.1.0"], ["bar", "0.1.0"]]), label).toEqual([]);
      const newRelease = missingReleases(after.indexes, [["foo", "0.2.0"]]);
      if (newRelease.length === 0) outcomes.published++;
      else if ((await contents(store)).size === hexBefore.size) outcomes.unchanged++;
      else outcomes.partial++;

      await publishHexTarball(hex, store, "foo", "0.2.0");
      const converged = await hexState(hex, store);
      expect(converged.problems, label).toEqual([]);
      expect(missingReleases(converged.indexes, [["foo", "0.1.0"], ["bar", "0.1.0"], ["foo", "0.2.0"]]), label).toEqual([]);
    }
    console.log(`hex ${kind}: ${changes} store changes: ${JSON.stringify(outcomes)}`);
  }, LONG_TEST_MS);
});
