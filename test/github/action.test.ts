import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readHexTarball } from "../../src/hex/tarball.js";
import { openStore } from "../../src/store/open-store.js";
import { freshS3Url } from "../support/s3.js";
import { runCli } from "../support/cli.js";
import { GIT_ENV, commitFiles, git, makeRepo, tempDir } from "../support/git-repo.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DIST = path.join(root, "dist/index.js");
const REG_UUID = "a11ce000-0000-4000-8000-0000000000dd";
const FOO = "f0000000-0000-4000-8000-0000000000d1";
const hexKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const mix = `defmodule Widget.MixProject do
  use Mix.Project
  def project do
    [app: :widget, version: "1.0.0", description: "Widgets", package: [licenses: ["MIT"]], deps: []]
  end
end
`;

const { dir: tmp, cleanup } = tempDir("pkgpub-action-");
let n = 0;

/** Runs dist/index.js as the runner does: a push event file, the checkout, INPUT_* variables. */
function runAction(args: { workspace: string; event?: object; eventName?: string; inputs: Record<string, string>; env?: Record<string, string> }): Promise<{ code: number; stdout: string; summary: string; output: string }> {
  const dir = path.join(tmp, `run-${++n}`);
  const eventPath = path.join(tmp, `event-${n}.json`);
  const summaryPath = path.join(tmp, `summary-${n}.md`);
  const outputPath = path.join(tmp, `output-${n}.txt`);
  writeFileSync(outputPath, "");
  writeFileSync(eventPath, JSON.stringify(args.event ?? {}));
  writeFileSync(summaryPath, "");
  const env: NodeJS.ProcessEnv = {
    ...GIT_ENV,
    PKGPUB_GIT_CACHE_DIR: path.join(dir, "cache"),
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: args.eventName ?? "push",
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_WORKSPACE: args.workspace,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_OUTPUT: outputPath,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_REPOSITORY: "acme/thing",
  };
  Object.assign(env, args.env);
  for (const [k, v] of Object.entries(args.inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST], { env, cwd: args.workspace, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout: out, summary: readFileSync(summaryPath, "utf8"), output: readFileSync(outputPath, "utf8") }));
  });
}

const push = (ref: string, sha: string, cloneUrl: string) => ({
  ref, after: sha, deleted: false, head_commit: { id: sha },
  repository: { clone_url: cloneUrl, default_branch: "main", full_name: "acme/thing" },
});

let registryBare: string;
let registryCheckout: string;
let foo: string;
let fooBare: string;

beforeAll(async () => {
  const reg = makeRepo(path.join(tmp, "Reg"), { "Registry.toml": `name = "Reg"\nuuid = "${REG_UUID}"\n\n[packages]\n` }).dir;
  registryBare = path.join(tmp, "Reg.git");
  git(tmp, "clone", "-q", "--bare", reg, registryBare);
  foo = makeRepo(path.join(tmp, "Foo.jl"), { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.1.0"\n`, "src/Foo.jl": "module Foo end\n" }).dir;
  git(foo, "tag", "v0.1.0");
  fooBare = path.join(tmp, "Foo.jl.git");
  git(tmp, "clone", "-q", "--bare", foo, fooBare);
  expect((await runCli(["julia", "register", "--registry", `file://${registryBare}`, "--package", `file://${fooBare}`, "--ref", "v0.1.0", "--push"], GIT_ENV)).code).toBe(0);
  registryCheckout = path.join(tmp, "reg-checkout");
  git(tmp, "clone", "-q", registryBare, registryCheckout);
});
afterAll(() => cleanup());

describe("the bundled Action (node dist/index.js)", () => {
  it("is fresh: rebuilding from the sources gives the committed dist/", async () => {
    const out = path.join(tmp, "dist-rebuilt");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(root, "scripts/build-action.mjs"), out], { stdio: "inherit" });
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`build exited ${code}`))));
    });
    const fresh = readFileSync(path.join(out, "index.js"));
    const committed = readFileSync(DIST);
    expect(fresh.equals(committed), "dist/index.js is stale: run `npm run build:action` and commit dist/").toBe(true);
    expect(readFileSync(path.join(root, "dist/package.json"), "utf8")).toBe(readFileSync(path.join(out, "package.json"), "utf8"));
  });

  it("publishes a registry push from the workflow's checkout", async () => {
    const store = path.join(tmp, "store-registry");
    const sha = git(registryCheckout, "rev-parse", "HEAD");
    const r = await runAction({ workspace: registryCheckout, event: push("refs/heads/main", sha, "https://github.com/acme/Reg.git"), inputs: { store } });
    expect(r.stdout.split("\n")[0]).toBe("pkgpub action starting");
    expect(r.code).toBe(0);
    const tree = git(registryCheckout, "rev-parse", "HEAD^{tree}");
    expect(readFileSync(path.join(store, "registries"), "utf8")).toBe(`/registry/${REG_UUID}/${tree}\n`);
    expect(existsSync(path.join(store, `package/${FOO}/${git(foo, "rev-parse", "v0.1.0^{tree}")}`))).toBe(true);
    expect(r.summary).toContain("### Published Reg at");
    expect(r.summary).toContain("pkg> registry add https://github.com/acme/Reg.git");
    expect(r.output).toContain("conclusion=success\ntitle=Published Reg at");
  });

  it("moves the pointer forward from a shallow checkout (actions/checkout's default depth 1)", async () => {
    const store = path.join(tmp, "store-registry");
    const work = path.join(tmp, "reg-work");
    git(tmp, "clone", "-q", registryBare, work);
    commitFiles(work, { "README.md": "the Reg registry\n" }, "readme");
    git(work, "push", "-q", "origin", "main");
    const shallow = path.join(tmp, "reg-shallow");
    git(tmp, "clone", "-q", "--depth=1", `file://${registryBare}`, shallow);
    const sha = git(shallow, "rev-parse", "HEAD");
    const r = await runAction({ workspace: shallow, event: push("refs/heads/main", sha, "https://github.com/acme/Reg.git"), inputs: { store } });
    expect(r.stdout).toContain("the checkout is shallow");
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(store, "registries"), "utf8")).toBe(`/registry/${REG_UUID}/${git(shallow, "rev-parse", "HEAD^{tree}")}\n`);
  });

  it("publishes into S3 with the workflow's AWS_* credentials (the bundled S3 client)", async () => {
    const s3Env = inject("s3Env");
    const url = await freshS3Url(s3Env, "action");
    const sha = git(registryCheckout, "rev-parse", "HEAD");
    const r = await runAction({ workspace: registryCheckout, event: push("refs/heads/main", sha, "https://github.com/acme/Reg.git"), inputs: { store: url }, env: s3Env });
    expect(r.code).toBe(0);
    const store = await openStore(url, { ...process.env, ...s3Env });
    const pointer = await store.get("registries");
    expect((await buffer(pointer!.body)).toString()).toBe(`/registry/${REG_UUID}/${git(registryCheckout, "rev-parse", "HEAD^{tree}")}\n`);
    expect(await store.head(`package/${FOO}/${git(foo, "rev-parse", "v0.1.0^{tree}")}`)).not.toBeNull();
    // The credentials the step was given never reach its log.
    for (const [k, v] of Object.entries(s3Env)) if (/SECRET|TOKEN/.test(k)) expect(r.stdout).not.toContain(v);
  });

  it("registers a Julia package tag in the registry and publishes it", async () => {
    const store = path.join(tmp, "store-package");
    commitFiles(foo, { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.2.0"\n` }, "0.2.0");
    git(foo, "tag", "v0.2.0");
    git(foo, "push", "-q", "--tags", fooBare, "main");
    const sha = git(foo, "rev-parse", "v0.2.0");
    const r = await runAction({ workspace: foo, event: push("refs/tags/v0.2.0", sha, `file://${fooBare}`), inputs: { store, registry: `file://${registryBare}` } });
    expect(r.code).toBe(0);
    expect(git(registryBare, "log", "-1", "--format=%s", "main")).toBe("New version: Foo v0.2.0");
    expect(existsSync(path.join(store, `package/${FOO}/${git(foo, "rev-parse", "v0.2.0^{tree}")}`))).toBe(true);
    expect(r.summary).toContain("### Registered and published Foo v0.2.0");
  });

  it("publishes a Hex package from its tag, and the `mix hex.build` tarball variant", async () => {
    const widget = makeRepo(path.join(tmp, "widget"), { "mix.exs": mix, "lib/widget.ex": "defmodule Widget do\nend\n" }).dir;
    git(widget, "tag", "v1.0.0");
    const store = path.join(tmp, "store-hex");
    const sha = git(widget, "rev-parse", "HEAD");
    const r = await runAction({ workspace: widget, event: push("refs/tags/v1.0.0", sha, "https://github.com/acme/widget.git"), inputs: { store, "hex-repo": "acme", "hex-key": hexKey } });
    expect(r.code).toBe(0);
    expect(r.summary).toContain("### Published acme/widget 1.0.0");
    expect(r.stdout).not.toContain(hexKey.split("\n")[2]!);
    // A workflow that ran `mix hex.build` hands the tarball over instead.
    copyFileSync(path.join(store, "repos/acme/tarballs/widget-1.0.0.tar"), path.join(widget, "widget-1.0.0.tar"));
    const other = path.join(tmp, "store-hex-tarball");
    const t = await runAction({ workspace: widget, eventName: "release", inputs: { store: other, "hex-repo": "acme", "hex-key": hexKey, tarball: "widget-1.0.0.tar" } });
    expect(t.code).toBe(0);
    expect(readFileSync(path.join(other, "repos/acme/tarballs/widget-1.0.0.tar"))).toEqual(readFileSync(path.join(store, "repos/acme/tarballs/widget-1.0.0.tar")));
  });

  it("the build-tool input picks rebar3 in a repository that also has a mix.exs", async () => {
    const lib = makeRepo(path.join(tmp, "erlib"), {
      "mix.exs": 'defmodule Erlib.MixProject do\n  use Mix.Project\n  def project, do: [app: :erlib, version: "0.4.0", description: "from mix", deps: []]\nend\n',
      "src/erlib.app.src": '{application, erlib, [{description, "from rebar3"}, {vsn, "0.4.0"}, {applications, [kernel, stdlib]}, {licenses, ["MIT"]}]}.\n',
      "src/erlib.erl": "-module(erlib).\n",
      "rebar.config": "{deps, []}.\n",
    }).dir;
    git(lib, "tag", "v0.4.0");
    const store = path.join(tmp, "store-build-tool");
    const sha = git(lib, "rev-parse", "HEAD");
    const r = await runAction({ workspace: lib, event: push("refs/tags/v0.4.0", sha, "https://github.com/acme/erlib.git"), inputs: { store, "hex-repo": "acme", "hex-key": hexKey, "build-tool": "rebar3" } });
    expect(r.code).toBe(0);
    const t = readHexTarball(new Uint8Array(readFileSync(path.join(store, "repos/acme/tarballs/erlib-0.4.0.tar"))));
    expect(t.metadata).toMatchObject({ description: "from rebar3", buildTools: ["rebar3"] });
    const bad = await runAction({ workspace: lib, event: push("refs/tags/v0.4.0", sha, "https://github.com/acme/erlib.git"), inputs: { store, "hex-repo": "acme", "hex-key": hexKey, "build-tool": "rebar" } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("inputs: build-tool: ");
  });

  it("mode reconcile registers the tags a workflow never saw and publishes them (schedule / workflow_dispatch)", async () => {
    commitFiles(foo, { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.3.0"\n` }, "0.3.0");
    git(foo, "tag", "v0.3.0");
    git(foo, "push", "-q", "--tags", fooBare, "main");
    const ws = makeRepo(path.join(tmp, "ops"), {
      "repos.toml": `[[julia_package]]\nurl = "file://${fooBare}"\nregistry = "file://${registryBare}"\n`,
    }).dir;
    const store = path.join(tmp, "store-reconcile");
    const r = await runAction({ workspace: ws, eventName: "schedule", inputs: { mode: "reconcile", store, config: "repos.toml" } });
    expect(r.code).toBe(0);
    expect(r.summary).toMatch(/### Reconciled: \d+ done, \d+ unchanged, 0 failed/);
    expect(r.summary).toContain("registered Foo v0.3.0");
    expect(existsSync(path.join(store, `package/${FOO}/${git(foo, "rev-parse", "v0.3.0^{tree}")}`))).toBe(true);
    const again = await runAction({ workspace: ws, eventName: "schedule", inputs: { mode: "reconcile", store, config: "repos.toml" } });
    expect(again.code).toBe(0);
    expect(again.summary).toMatch(/### Reconciled: 0 done/);
  });

  it("fails the step on any error, with an ::error:: annotation", async () => {
    git(foo, "tag", "v7.0.0");
    const sha = git(foo, "rev-parse", "v7.0.0");
    const bad = await runAction({ workspace: foo, event: push("refs/tags/v7.0.0", sha, `file://${fooBare}`), inputs: { store: path.join(tmp, "store-bad"), registry: `file://${registryBare}` } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error::pkgpub failed: tag v7.0.0 does not match Project.toml version 0.3.0 of Foo/);
    expect(bad.output).toBe("conclusion=failure\ntitle=pkgpub failed\n");
    const noStore = await runAction({ workspace: foo, event: push("refs/tags/v0.2.0", sha, `file://${fooBare}`), inputs: {} });
    expect(noStore.code).toBe(1);
    expect(noStore.stdout).toMatch(/::error::inputs: store:/);
    const wrongEvent = await runAction({ workspace: foo, eventName: "schedule", inputs: { store: path.join(tmp, "s") } });
    expect(wrongEvent.code).toBe(1);
    expect(wrongEvent.stdout).toContain("use mode: reconcile");
  });
});
