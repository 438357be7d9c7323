import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readActionInputs } from "../../src/github/action-inputs.js";
import { runAction } from "../../src/github/action-run.js";
import { defaultPublishers } from "../../src/github/default-publishers.js";
import { loadTargets } from "../../src/github/reconcile-targets.js";
import { FsStore } from "../../src/store/fs-store.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "../server/fake-upstream.js";
import { serveRepo, signedRepo } from "../server/hex-fixture.js";

describe("the Action's mode: mirror", () => {
  const t = tempDir("pkgpub-action-mirror-");
  let upstream: FakeUpstream;
  const repo = signedRepo("hexpm");

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    serveRepo(upstream, repo);
    const beta = repo.packages.find((p) => p.name === "beta")!;
    const outer = createHash("sha256").update(beta.tarball).digest("hex");
    writeFileSync(path.join(t.dir, "rebar.lock"), `{"1.2.0",[{<<"beta">>,{pkg,<<"beta">>,<<"0.1.0">>},0}]}.\n[{pkg_hash_ext,[{<<"beta">>,<<"${outer}">>}]}].\n`);
    writeFileSync(path.join(t.dir, "hexpm.pem"), repo.publicKeyPem);
  });
  afterAll(async () => {
    await upstream?.close();
    t.cleanup();
  });

  async function run(inputs: Record<string, string>): Promise<{ code: number; summary: string }> {
    const summaryFile = path.join(t.dir, `summary-${Math.random()}.md`);
    writeFileSync(summaryFile, "");
    const env: NodeJS.ProcessEnv = { GITHUB_WORKSPACE: t.dir, GITHUB_STEP_SUMMARY: summaryFile, PATH: process.env.PATH };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const code = await runAction({ inputs: readActionInputs(env), env, publishers: defaultPublishers, log: () => undefined, loadTargets });
    return { code, summary: readFileSync(summaryFile, "utf8") };
  }

  it("mirrors the locked packages into the store, and a second run writes nothing", async () => {
    const store = path.join(t.dir, "store");
    const inputs = { mode: "mirror", store, lock: "rebar.lock", "hex-repo": "hexpm", upstream: upstream.url, "public-key": "hexpm.pem" };
    const first = await run(inputs);
    expect(first.summary).toContain("Mirrored: 6 objects written, 0 failed");
    expect(first.code).toBe(0);
    expect(await new FsStore(store).head("repos/hexpm/tarballs/beta-0.1.0.tar")).not.toBeNull();
    const second = await run(inputs);
    expect(second.code).toBe(0);
    expect(second.summary).toContain("Mirrored: 0 objects written, 0 failed");
  });

  it("fails with the reason when an input is missing", async () => {
    const r = await run({ mode: "mirror", store: path.join(t.dir, "s2"), lock: "rebar.lock", upstream: upstream.url });
    expect(r.code).toBe(1);
    expect(r.summary).toContain("the lock input needs hex-repo");
  });
});
