import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyJuliaStore } from "../../src/publish/julia-verify.js";
import { commitFiles, git, tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { hexState, makeHexWorld, missingReleases, publishHexTarball, type HexWorld } from "./support/hex-world.js";
import { makeJuliaWorld, OTHER_UUID, pointers, publishJulia, REGISTRY_UUID, type JuliaWorld } from "./support/julia-world.js";
import { FULL, LONG_TEST_MS } from "./support/kill.js";

const s3Env = inject("s3Env");
const PUBLISHERS = 20;
const PUSHES = 10;

/**
 * Invariant 5. Hex: 20 publishers at once into one repository (15 packages and 5 versions of
 * a shared one), round after round into the same repository: every release of every round ends
 * up in packages, versions and names. Julia: 10 commits pushed in quick succession, each
 * published as soon as it exists, all publishes running at once, while a watcher reads the
 * pointer: it only ever moves forward along the pushes, and ends at the last.
 */
describe.each<StoreKind>(["directory", "s3"])("concurrent publishers (%s store)", (kind) => {
  const tmp = tempDir(`pkgpub-rel-conc-${kind}-`);
  // Rounds of each burst: the 20 under `npm run test:reliability`; fewer in `npm test`,
  // fewest on S3, where Swift is slow and Hex waits out its settle delays.
  const ROUNDS = FULL ? 20 : kind === "s3" ? 1 : 3;
  let hex: HexWorld;
  let julia: JuliaWorld;

  beforeAll(async () => {
    hex = makeHexWorld(tmp.dir);
    julia = await makeJuliaWorld(path.join(tmp.dir, "julia"));
  });
  afterAll(async () => {
    await julia?.close();
    tmp.cleanup();
  });

  it(`${ROUNDS} rounds of ${PUBLISHERS} Hex publishers at once: no release lost`, async () => {
    const { store } = await openTestStores(kind, path.join(tmp.dir, "hex"), s3Env);
    const published: Array<[string, string]> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const jobs: Array<[string, string]> = [];
      for (let i = 0; i < PUBLISHERS - 5; i++) jobs.push([`pkg_${String(i).padStart(2, "0")}`, `1.${round}.0`]);
      for (let v = 0; v < 5; v++) jobs.push(["shared", `${round}.${v}.0`]);
      const results = await Promise.allSettled(jobs.map(([name, version]) => publishHexTarball(hex, store, name, version)));
      const failures = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
      expect(failures, `round ${round}`).toEqual([]);
      published.push(...jobs);
      const state = await hexState(hex, store);
      expect(state.problems, `round ${round}`).toEqual([]);
      expect(missingReleases(state.indexes, published), `round ${round}`).toEqual([]);
    }
  }, LONG_TEST_MS);

  it(`${ROUNDS} bursts of ${PUSHES} rapid pushes to one registry: the pointer never moves back`, async () => {
    const { store } = await openTestStores(kind, path.join(tmp.dir, "julia-store"), s3Env);
    await publishJulia(julia, store, "state-a");
    await publishJulia(julia, store, undefined, julia.other);
    const order = [julia.treeA, julia.treeB];
    let backwards: string[] = [];
    let push = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const seen: string[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const tree = (await pointers(store)).get(REGISTRY_UUID)!;
          if (seen.at(-1) !== tree) seen.push(tree);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const publishes: Array<Promise<unknown>> = [];
      for (let i = 0; i < PUSHES; i++) {
        const c = commitFiles(julia.fx.dir, { "F/Foo/Compat.toml": `# push ${push++}\n` }, `push ${push}`);
        order.push(c.tree);
        publishes.push(publishJulia(julia, store, c.commit));
      }
      const results = await Promise.allSettled(publishes);
      watching = false;
      await watcher;
      for (const r of results) expect(r.status === "rejected" ? String(r.reason) : "ok", `round ${round}`).toBe("ok");
      const positions = seen.map((t) => order.indexOf(t));
      expect(positions.every((p) => p >= 0), `round ${round}: the pointer named a tree never pushed`).toBe(true);
      const back = positions.flatMap((p, i) => (i > 0 && p < positions[i - 1]! ? [`${positions[i - 1]} -> ${p}`] : []));
      backwards = backwards.concat(back);
      const lines = await pointers(store);
      expect(lines.get(OTHER_UUID), `round ${round}: the other registry's line`).toBe(julia.otherTree);
      if (kind === "directory") {
        expect(back, `round ${round}`).toEqual([]);
        expect(lines.get(REGISTRY_UUID), `round ${round}`).toBe(order.at(-1));
      } else {
        // Without conditional writes (Swift's s3api) racing publishers can leave an older tree
        // (docs/stores.md); the next publish of the head moves it to the newest.
        await publishJulia(julia, store, git(julia.fx.dir, "rev-parse", "HEAD"));
        expect((await pointers(store)).get(REGISTRY_UUID), `round ${round}`).toBe(order.at(-1));
      }
    }
    expect((await verifyJuliaStore(store)).problems).toEqual([]);
    if (kind === "s3") console.log(`s3 without conditional writes: pointer moved back ${backwards.length} times in ${ROUNDS} bursts (${backwards.join(", ")})`);
  }, LONG_TEST_MS);
});
