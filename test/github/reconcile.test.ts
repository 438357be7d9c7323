import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/store/fs-store.js";
import { runCli } from "../support/cli.js";
import { GIT_ENV, commitFiles, git, makeRepo, tempDir } from "../support/git-repo.js";

const REG_UUID = "a11ce000-0000-4000-8000-0000000000cc";
const FOO = "f0000000-0000-4000-8000-0000000000c1";
const mix = (v: string) => `defmodule Widget.MixProject do
  use Mix.Project
  def project do
    [app: :widget, version: "${v}", description: "Widgets", package: [licenses: ["MIT"]], deps: []]
  end
end
`;

const { dir: root, cleanup } = tempDir("pkgpub-reconcile-");
const storeDir = path.join(root, "store");
const regBare = path.join(root, "Reg.git");
const hexKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const env = { ...GIT_ENV, PKGPUB_HEX_KEY: hexKey, PKGPUB_GIT_CACHE_DIR: path.join(root, "cache") };
let foo: string;
let widget: string;

async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const o of new FsStore(storeDir).list("")) out[o.key] = o.etag;
  return out;
}

beforeAll(async () => {
  const reg = makeRepo(path.join(root, "Reg"), { "Registry.toml": `name = "Reg"\nuuid = "${REG_UUID}"\n\n[packages]\n` }).dir;
  git(root, "clone", "-q", "--bare", reg, regBare);
  foo = makeRepo(path.join(root, "Foo.jl"), { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.1.0"\n`, "src/Foo.jl": "module Foo end\n" }).dir;
  git(foo, "tag", "v0.1.0");
  expect((await runCli(["julia", "register", "--registry", `file://${regBare}`, "--package", `file://${foo}`, "--ref", "v0.1.0", "--push"], env)).code).toBe(0);
  // Three more tags pushed at once: GitHub sends no webhook for them.
  for (const v of ["0.2.0", "0.3.0", "0.4.0"]) {
    commitFiles(foo, { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "${v}"\n` }, v);
    git(foo, "tag", `v${v}`);
  }
  git(foo, "tag", "v0.9.0"); // a mistag of 0.4.0's commit: not a release reconcile can make
  widget = makeRepo(path.join(root, "widget"), { "mix.exs": mix("1.0.0"), "lib/widget.ex": "defmodule Widget do\nend\n" }).dir;
  git(widget, "tag", "v1.0.0");
  commitFiles(widget, { "mix.exs": mix("1.1.0") }, "1.1.0");
  git(widget, "tag", "v1.1.0");
  const mono = makeRepo(path.join(root, "mono"), {
    "julia/Baz/Project.toml": `name = "Baz"\nuuid = "ba200000-0000-4000-8000-0000000000c2"\nversion = "0.1.0"\n`,
    "julia/Baz/src/Baz.jl": "module Baz end\n",
    "libs/Qux/Project.toml": `name = "Qux"\nuuid = "90c00000-0000-4000-8000-0000000000c3"\nversion = "2.0.0"\n`,
    "libs/Qux/src/Qux.jl": "module Qux end\n",
  }).dir;
  git(mono, "tag", "Baz-v0.1.0");
  git(mono, "tag", "Qux-v2.0.0");
  writeFileSync(
    path.join(root, "reconcile.toml"),
    [
      `[[julia_package]]\nurl = "file://${foo}"\nregistry = "file://${regBare}"\n`,
      `[[julia_package]]\nurl = "file://${mono}"\nregistry = "file://${regBare}"\nsubdirs = { Baz = "julia/Baz", Qux = "libs/Qux" }\n`,
      `[[hex_package]]\nurl = "file://${widget}"\nrepo = "acme"\n`,
    ].join("\n"),
  );
});
afterAll(() => cleanup());

describe("pkgpub reconcile", () => {
  it("registers the tags the registry lacks, publishes the registry and the Hex tags", async () => {
    const r = await runCli(["reconcile", "--config", path.join(root, "reconcile.toml"), "--store", storeDir], env);
    expect(r.stdout).toContain("registered Foo v0.2.0");
    expect(r.stdout).toContain("registered Foo v0.4.0");
    expect(r.stdout).toMatch(/unchanged: .* v0.9.0: not a release of this package/);
    expect(r.stdout).toContain("acme/widget 1.1.0 published");
    expect(r.code).toBe(0);
    expect(git(regBare, "log", "--format=%s", "-5", "main").split("\n")).toEqual([
      "New package: Qux v2.0.0", "New package: Baz v0.1.0", "New version: Foo v0.4.0", "New version: Foo v0.3.0", "New version: Foo v0.2.0",
    ]);
    expect(git(regBare, "show", "main:Q/Qux/Package.toml")).toContain(`subdir = "libs/Qux"`);
    const keys = Object.keys(await snapshot());
    for (const v of ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]) expect(keys).toContain(`package/${FOO}/${git(foo, "rev-parse", `v${v}^{tree}`)}`);
    expect(keys).toEqual(expect.arrayContaining(["repos/acme/tarballs/widget-1.0.0.tar", "repos/acme/tarballs/widget-1.1.0.tar", "repos/acme/versions"]));
    expect(readFileSync(path.join(storeDir, "registries"), "utf8")).toBe(`/registry/${REG_UUID}/${git(regBare, "rev-parse", "main^{tree}")}\n`);
  });

  it("writes nothing when run again", async () => {
    const before = await snapshot();
    const head = git(regBare, "rev-parse", "main");
    const r = await runCli(["reconcile", "--config", path.join(root, "reconcile.toml"), "--store", storeDir], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n0 done, \d+ unchanged, 0 failed/);
    expect(await snapshot()).toEqual(before);
    expect(git(regBare, "rev-parse", "main")).toBe(head);
  });

  it("fails (exit 1) naming what failed, e.g. a Hex repository without a signing key", async () => {
    const { PKGPUB_HEX_KEY: _, ...noKey } = env;
    const r = await runCli(["reconcile", "--config", path.join(root, "reconcile.toml"), "--store", storeDir], noKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAILED: hex package file://${widget}: no Hex signing key`);
  });
});
