// GitHub front doors: from a signed tag delivery to the objects in the store (small Julia and Hex
// packages, through the real App, fake GitHub API and git over smart HTTP), and the Action
// bundle's size and cold start. Baselines measured in the same run: a `git clone` over the same
// HTTP server, and `node -e` printing one line.

import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { registerPackage } from "../src/publish/registration.js";
import { tokenGitEnv } from "../src/publish/git-token.js";
import { startWorld, OWNER } from "../test/github/support/world.js";
import { commitFiles, git, GIT_ENV } from "../test/support/git-repo.js";
import { median, report } from "./util.js";

const FOO = "f0000000-0000-4000-8000-00000000be01";
const REG = "a11ce000-0000-4000-8000-00000000be00";
const hexKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const mix = (v: string) => `defmodule Widget.MixProject do\n  use Mix.Project\n  def project do\n    [app: :widget, version: "${v}", description: "Widgets", package: [licenses: ["MIT"]], deps: []]\n  end\nend\n`;

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

const w = await startWorld({ hexKeyPem: hexKey });
try {
  const registry = w.createRepo("Reg", { "Registry.toml": `name = "Reg"\nuuid = "${REG}"\n\n[packages]\n` });
  const foo = w.createRepo("Foo.jl", { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.1.0"\n`, "src/Foo.jl": "module Foo end\n" });
  git(foo, "tag", "v0.1.0");
  w.push("Foo.jl");
  await registerPackage({ registry, package: foo, ref: "v0.1.0", repo: w.url("Foo.jl"), gitEnv: GIT_ENV });
  w.push("Reg");
  w.github.setFile(`${OWNER}/Reg`, ".github/pkgpub.yml", "kind: julia-registry\n");
  w.github.setFile(`${OWNER}/Foo.jl`, ".github/pkgpub.yml", `kind: julia-package\nregistry: ${w.url("Reg")}\n`);
  w.github.setFile(`${OWNER}/widget`, ".github/pkgpub.yml", "kind: hex-package\nhex_repo: acme\n");
  const widget = w.createRepo("widget", { "mix.exs": mix("1.0.0"), "lib/widget.ex": "defmodule Widget do\nend\n" });

  // Baseline: one clone of the package over the same token-checked smart HTTP server.
  const token = [...w.github.tokens][0] ?? (await (async () => { await w.deliverPush("Reg", "refs/heads/main"); await w.app.app.queue.idle(); return [...w.github.tokens][0]!; })());
  const clones: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const c = spawn("git", ["clone", "-q", "--bare", w.url("Foo.jl"), path.join(w.root, `baseline-${i}.git`)], { env: tokenGitEnv(token, new URL(w.url("Foo.jl")).origin, GIT_ENV), stdio: "ignore" });
      c.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`clone exited ${code}`))));
    });
    clones.push(performance.now() - t0);
  }
  const clone = median(clones);
  report("baseline: git clone of a small repo over smart HTTP", `${clone.toFixed(0)} ms`);

  const julia: number[] = [];
  const answered: number[] = [];
  for (let i = 2; i <= 5; i++) {
    commitFiles(foo, { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.${i}.0"\n` }, `0.${i}.0`);
    git(foo, "tag", `v0.${i}.0`);
    w.push("Foo.jl");
    const tree = git(foo, "rev-parse", `v0.${i}.0^{tree}`);
    const t0 = performance.now();
    await w.deliverPush("Foo.jl", `refs/tags/v0.${i}.0`);
    answered.push(performance.now() - t0);
    await waitFor(() => existsSync(path.join(w.storeDir, `package/${FOO}/${tree}`)));
    await w.app.app.queue.idle();
    julia.push(performance.now() - t0);
  }
  report("webhook answered (signed tag delivery -> 200), median", `${median(answered).toFixed(0)} ms`);
  report("julia: tag delivery -> registered + objects in store (first)", `${julia[0]!.toFixed(0)} ms (${(julia[0]! / clone).toFixed(1)}x clone)`);
  report("julia: tag delivery -> registered + objects in store (median warm)", `${median(julia.slice(1)).toFixed(0)} ms (${(median(julia.slice(1)) / clone).toFixed(1)}x clone)`);

  const hex: number[] = [];
  for (let i = 0; i <= 3; i++) {
    const v = `1.${i}.0`;
    if (i > 0) commitFiles(widget, { "mix.exs": mix(v) }, v);
    git(widget, "tag", `v${v}`);
    w.push("widget");
    const t0 = performance.now();
    await w.deliverPush("widget", `refs/tags/v${v}`);
    await w.app.app.queue.idle();
    if (!existsSync(path.join(w.storeDir, `repos/acme/tarballs/widget-${v}.tar`))) throw new Error(`widget ${v} not published`);
    hex.push(performance.now() - t0);
  }
  report("hex: tag delivery -> objects in store (first)", `${hex[0]!.toFixed(0)} ms (${(hex[0]! / clone).toFixed(1)}x clone)`);
  report("hex: tag delivery -> objects in store (median warm)", `${median(hex.slice(1)).toFixed(0)} ms (${(median(hex.slice(1)) / clone).toFixed(1)}x clone)`);
} finally {
  await w.close();
}

// The Action: bundle size, and cold start to its first log line.
const dist = path.resolve("dist/index.js");
report("action: dist/index.js size", `${(statSync(dist).size / 1024).toFixed(0)} KiB`);
function firstLine(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "ignore"] });
    child.stdout.once("data", () => resolve(performance.now() - t0));
    child.on("error", reject);
  });
}
const eventPath = path.resolve("build/bench-event.json");
writeFileSync(eventPath, JSON.stringify({ ref: "refs/heads/x", after: "0".repeat(40), deleted: true, repository: { clone_url: "https://github.com/a/b.git", full_name: "a/b" } }));
const env = { ...process.env, GITHUB_EVENT_NAME: "push", GITHUB_EVENT_PATH: eventPath, GITHUB_WORKSPACE: process.cwd(), INPUT_STORE: "build/bench-store", INPUT_KIND: "julia-registry" };
const nodeStarts: number[] = [];
const actionStarts: number[] = [];
for (let i = 0; i < 5; i++) {
  nodeStarts.push(await firstLine(["-e", "console.log(1)"], env));
  actionStarts.push(await firstLine([dist], env));
}
report("baseline: node -e to first line", `${median(nodeStarts).toFixed(0)} ms`);
report("action: node dist/index.js to first log line", `${median(actionStarts).toFixed(0)} ms (${(median(actionStarts) / median(nodeStarts)).toFixed(1)}x node)`);
