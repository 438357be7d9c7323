import { readFileSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openNames } from "../../src/hex/registry.js";
import { parsePrivateKey, publicKeyOf } from "../../src/hex/signing.js";
import { registerPackage } from "../../src/publish/registration.js";
import { GIT_ENV, commitFiles, git } from "../support/git-repo.js";
import { deliver, pushPayload } from "./support/deliver.js";
import { OWNER, SECRET, startWorld, type World } from "./support/world.js";

const hexKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const mix = (app: string) => `defmodule ${app[0]!.toUpperCase()}${app.slice(1)}.MixProject do
  use Mix.Project
  def project do
    [app: :${app}, version: "1.0.0", description: "${app}", package: [licenses: ["MIT"]], deps: []]
  end
end
`;
const REG_UUID = "a11ce000-0000-4000-8000-0000000000bb";
const pkgUuid = (i: number) => `c0000000-0000-4000-8000-${String(i).padStart(12, "0")}`;

let w: World;
let registry: string;
const bare = () => path.join(w.root, "served", OWNER, "Reg.git");
const pointer = () => readFileSync(path.join(w.storeDir, "registries"), "utf8");
const treeOf = (rev: string) => git(registry, "rev-parse", `${rev}^{tree}`);

/** Adds package Pkg<i> v0.1.0 to the registry (a new commit) and pushes it. */
async function addPackage(i: number): Promise<string> {
  const name = `Pkg${i}`;
  const dir = w.createRepo(`${name}.jl`, { "Project.toml": `name = "${name}"\nuuid = "${pkgUuid(i)}"\nversion = "0.1.0"\n`, [`src/${name}.jl`]: `module ${name} end\n` });
  git(dir, "tag", "v0.1.0");
  w.push(`${name}.jl`);
  await registerPackage({ registry, package: dir, ref: "v0.1.0", repo: w.url(`${name}.jl`), gitEnv: GIT_ENV });
  w.push("Reg");
  return git(registry, "rev-parse", "HEAD");
}

const pushOf = (commit: string) => pushPayload({ owner: OWNER, repo: "Reg", ref: "refs/heads/main", after: commit, cloneUrl: w.url("Reg") });

beforeAll(async () => {
  w = await startWorld({ hexKeyPem: hexKey });
  registry = w.createRepo("Reg", { "Registry.toml": `name = "Reg"\nuuid = "${REG_UUID}"\n\n[packages]\n` });
  w.github.setFile(`${OWNER}/Reg`, ".github/pkgpub.yml", "kind: julia-registry\n");
});
afterAll(async () => {
  await w?.close();
});

describe("webhook bursts", () => {
  it("two pushes in quick succession: the pointer ends at the newer commit", async () => {
    const a = await addPackage(1);
    const b = await addPackage(2);
    const [ra, rb] = await Promise.all([deliver(w.app.webhookUrl, "push", pushOf(a), { secret: SECRET }), deliver(w.app.webhookUrl, "push", pushOf(b), { secret: SECRET })]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    await w.app.app.queue.idle();
    expect(pointer()).toBe(`/registry/${REG_UUID}/${treeOf(b)}\n`);
    expect(git(bare(), "rev-parse", "main")).toBe(b);
  });

  it("deliveries arriving newest first never move the pointer back", async () => {
    const c = await addPackage(3);
    const d = await addPackage(4);
    await deliver(w.app.webhookUrl, "push", pushOf(d), { secret: SECRET });
    await w.app.app.queue.idle();
    await deliver(w.app.webhookUrl, "push", pushOf(c), { secret: SECRET });
    await w.app.app.queue.idle();
    expect(pointer()).toBe(`/registry/${REG_UUID}/${treeOf(d)}\n`);
  });

  it("50 deliveries at once (redeliveries, repeats, unrelated repositories) all answer 200 and publish once", async () => {
    const e = await addPackage(5);
    const first = randomUUID();
    const runsBefore = w.github.checkRuns.size;
    const deliveries = Array.from({ length: 50 }, (_, i) => {
      if (i % 5 === 0) return deliver(w.app.webhookUrl, "push", pushOf(e), { secret: SECRET, id: first });
      if (i % 5 === 1) return deliver(w.app.webhookUrl, "push", pushOf(e), { secret: SECRET });
      const payload = pushPayload({ owner: OWNER, repo: `unconfigured-${i}`, ref: "refs/heads/main", after: String(i).padStart(40, "1"), cloneUrl: w.url(`unconfigured-${i}`) });
      return deliver(w.app.webhookUrl, "push", payload, { secret: SECRET });
    });
    const results = await Promise.all(deliveries);
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    await w.app.app.queue.idle();
    expect(pointer()).toBe(`/registry/${REG_UUID}/${treeOf(e)}\n`);
    const runs = [...w.github.checkRuns.values()].slice(runsBefore);
    expect(runs.map((r) => [r.head_sha, r.conclusion])).toEqual([[e, "success"]]);
    const pkg5Tree = git(path.join(w.root, "work", "Pkg5.jl"), "rev-parse", "v0.1.0^{tree}");
    expect(runs[0]!.output!.summary).toContain(`package/${pkgUuid(5)}/${pkg5Tree}`);
  });

  it("tags of two Hex packages delivered together both end up in the repository's names index", async () => {
    for (const app of ["alpha", "beta"]) {
      const dir = w.createRepo(app, { "mix.exs": mix(app), [`lib/${app}.ex`]: "defmodule X do\nend\n" });
      git(dir, "tag", "v1.0.0");
      w.push(app);
      w.github.setFile(`${OWNER}/${app}`, ".github/pkgpub.yml", "kind: hex-package\nhex_repo: acme\n");
    }
    const results = await Promise.all(["alpha", "beta"].map((app) => w.deliverPush(app, "refs/tags/v1.0.0")));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await w.app.app.queue.idle();
    const names = openNames(readFileSync(path.join(w.storeDir, "repos/acme/names")), publicKeyOf(parsePrivateKey(hexKey, "test key")), "acme", "names");
    expect(names.packages.map((p) => p.name).sort()).toEqual(["alpha", "beta"]);
  });

  it("never puts an installation token into a check run", () => {
    const text = JSON.stringify([...w.github.checkRuns.values()]);
    expect(w.github.tokens.size).toBeGreaterThan(0);
    for (const token of w.github.tokens) expect(text).not.toContain(token);
  });
});
