import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPackage } from "../../src/publish/registration.js";
import { runCli } from "../support/cli.js";
import { GIT_ENV, commitFiles, git } from "../support/git-repo.js";
import { deliver, pushPayload, sign } from "./support/deliver.js";
import { OWNER, SECRET, startWorld, type World } from "./support/world.js";
import { generateKeyPairSync } from "node:crypto";

export const WIDGET_MIX = `defmodule Widget.MixProject do
  use Mix.Project
  def project do
    [app: :widget, version: "1.0.0", elixir: "~> 1.14", description: "Widgets", package: [licenses: ["MIT"]], deps: []]
  end
end
`;
const hexKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

const REG_UUID = "a11ce000-0000-4000-8000-0000000000aa";
const FOO = "f0000000-0000-4000-8000-0000000000f1";

let w: World;
let registry: string;
let foo: string;

const storeText = (key: string) => readFileSync(path.join(w.storeDir, key), "utf8");
const stored = (key: string) => existsSync(path.join(w.storeDir, key));
const checkRunsFor = (repo: string, sha: string) => [...w.github.checkRuns.values()].filter((r) => r.repo === repo && r.head_sha === sha);

beforeAll(async () => {
  w = await startWorld({ hexKeyPem: hexKey });
  registry = w.createRepo("AcmeRegistry", {
    "Registry.toml": `name = "AcmeRegistry"\nuuid = "${REG_UUID}"\nrepo = "${w.url("AcmeRegistry")}"\n\n[packages]\n`,
  });
  foo = w.createRepo("Foo.jl", {
    "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.1.0"\n`,
    "src/Foo.jl": "module Foo\ngreet() = \"hi\"\nend\n",
  });
  git(foo, "tag", "v0.1.0");
  w.push("Foo.jl");
  // Foo v0.1.0 is registered by hand, as a user would with the CLI.
  await registerPackage({ registry, package: foo, ref: "v0.1.0", repo: w.url("Foo.jl"), gitEnv: GIT_ENV });
  w.push("AcmeRegistry");
  w.github.setFile(`${OWNER}/AcmeRegistry`, ".github/pkgpub.yml", "kind: julia-registry\n");
  // Package repositories take their config from the org's .github repository.
  w.github.setFile(`${OWNER}/.github`, ".github/pkgpub.yml", `kind: julia-package\nregistry: ${w.url("AcmeRegistry")}\n`);
});
afterAll(async () => {
  await w?.close();
});

describe("webhook signatures", () => {
  const payload = () => pushPayload({ owner: OWNER, repo: "Unconfigured", ref: "refs/heads/main", after: "1".repeat(40), cloneUrl: "http://127.0.0.1:1/x.git" });

  it("accepts a delivery signed with the secret", async () => {
    const r = await deliver(w.app.webhookUrl, "push", payload(), { secret: SECRET });
    expect(r.status).toBe(200);
  });
  it("rejects a bad signature and a missing one, and does no work for them", async () => {
    await w.app.app.queue.idle();
    const before = w.github.calls.length;
    const bad = await deliver(w.app.webhookUrl, "push", payload(), { secret: "not-the-secret" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/signature does not match/);
    const missing = await deliver(w.app.webhookUrl, "push", payload(), { signature: null });
    expect(missing.status).toBe(400);
    const tampered = JSON.stringify({ ...payload(), ref: "refs/heads/evil" });
    const res = await fetch(w.app.webhookUrl, {
      method: "POST",
      body: tampered,
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "t1", "x-hub-signature-256": sign(SECRET, JSON.stringify(payload())) },
    });
    expect(res.status).toBe(400);
    await w.app.app.queue.idle();
    expect(w.github.calls.length).toBe(before);
  });
});

describe("push to the registry's default branch", () => {
  it("publishes that commit: package and registry tarballs, then the registries pointer; check run says so", async () => {
    const commit = git(registry, "rev-parse", "HEAD");
    const tree = git(registry, "rev-parse", "HEAD^{tree}");
    const r = await w.deliverPush("AcmeRegistry", "refs/heads/main");
    expect(r.status).toBe(200);
    await w.app.app.queue.idle();
    const fooTree = git(foo, "rev-parse", "v0.1.0^{tree}");
    expect(stored(`package/${FOO}/${fooTree}`)).toBe(true);
    expect(stored(`registry/${REG_UUID}/${tree}`)).toBe(true);
    expect(storeText("registries")).toContain(`/registry/${REG_UUID}/${tree}`);
    const [run] = checkRunsFor("AcmeRegistry", commit);
    expect(run?.status).toBe("completed");
    expect(run?.conclusion).toBe("success");
    expect(run?.output?.title).toBe(`Published AcmeRegistry at ${commit.slice(0, 12)}`);
    expect(run?.output?.summary).toContain(`\`package/${FOO}/${fooTree}\``);
    expect(run?.output?.summary).toContain(`JULIA_PKG_SERVER=https://pkgs.acme.test julia\npkg> registry add ${w.url("AcmeRegistry")}`);
    // Cloning went through the token-checked smart HTTP server, never anonymously.
    expect(w.gitHttp.requests.length).toBeGreaterThan(0);
    expect(w.gitHttp.requests.every((q) => q.authorized)).toBe(true);
    const anonymous = { ...GIT_ENV, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false" };
    // (async: the git server runs in this process)
    await expect(promisify(execFile)("git", ["ls-remote", w.url("AcmeRegistry")], { env: anonymous })).rejects.toThrow(/401|Authentication failed|could not read Username/);
  });

  it("treats a redelivery (same delivery id) as a no-op", async () => {
    const runs = w.github.checkRuns.size;
    const first = await w.deliverPush("AcmeRegistry", "refs/heads/main", { id: "redelivered-1" });
    await w.app.app.queue.idle();
    const again = await w.deliverPush("AcmeRegistry", "refs/heads/main", { id: "redelivered-1" });
    await w.app.app.queue.idle();
    expect([first.status, again.status]).toEqual([200, 200]);
    // The first delivery of an already handled push is skipped too: nothing new is reported.
    expect(w.github.checkRuns.size).toBe(runs);
  });
});

describe("tag pushed in a Julia package repository", () => {
  it("registers the version in the registry (pushing over HTTP with the token), then publishes it", async () => {
    commitFiles(foo, { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.2.0"\n`, "src/Foo.jl": "module Foo\ngreet() = \"hello\"\nend\n" }, "0.2.0");
    git(foo, "tag", "-a", "-m", "Foo 0.2.0", "v0.2.0");
    w.push("Foo.jl");
    const r = await w.deliverPush("Foo.jl", "refs/tags/v0.2.0");
    expect(r.status).toBe(200);
    await w.app.app.queue.idle();
    const bare = path.join(w.root, "served", OWNER, "AcmeRegistry.git");
    expect(git(bare, "log", "-1", "--format=%s", "main")).toBe("New version: Foo v0.2.0");
    const regTree = git(bare, "rev-parse", "main^{tree}");
    const fooTree = git(foo, "rev-parse", "v0.2.0^{tree}");
    expect(git(bare, "show", `main:F/Foo/Versions.toml`)).toContain(`["0.2.0"]\ngit-tree-sha1 = "${fooTree}"`);
    expect(stored(`package/${FOO}/${fooTree}`)).toBe(true);
    expect(storeText("registries")).toContain(`/registry/${REG_UUID}/${regTree}`);
    const [run] = checkRunsFor("Foo.jl", git(foo, "rev-parse", "v0.2.0^{commit}"));
    expect(run?.conclusion).toBe("success");
    expect(run?.output?.title).toBe("Registered and published Foo v0.2.0");
    expect(run?.output?.summary).toContain("pkg> add Foo@0.2.0");
  });

  it("reports a tag that does not match Project.toml as a failed check run, registering nothing", async () => {
    commitFiles(foo, { "README.md": "mistagged\n" }, "docs");
    git(foo, "tag", "v9.9.9");
    w.push("Foo.jl");
    const bare = path.join(w.root, "served", OWNER, "AcmeRegistry.git");
    const before = git(bare, "rev-parse", "main");
    await w.deliverPush("Foo.jl", "refs/tags/v9.9.9");
    await w.app.app.queue.idle();
    expect(git(bare, "rev-parse", "main")).toBe(before);
    const [run] = checkRunsFor("Foo.jl", git(foo, "rev-parse", "v9.9.9^{commit}"));
    expect(run?.conclusion).toBe("failure");
    expect(run?.output?.summary).toContain("tag v9.9.9 does not match Project.toml version 0.2.0 of Foo");
  });
});

describe("tag pushed in a monorepo with Julia packages in subdirectories", () => {
  it("registers the package the <Name>-v tag names, with its subdirectory's tree, and publishes that tree", async () => {
    const BAZ = "ba200000-0000-4000-8000-0000000000f3";
    const mono = w.createRepo("mono", {
      "README.md": "several packages\n",
      "julia/Baz/Project.toml": `name = "Baz"\nuuid = "${BAZ}"\nversion = "0.1.0"\n`,
      "julia/Baz/src/Baz.jl": "module Baz end\n",
    });
    git(mono, "tag", "Baz-v0.1.0");
    w.push("mono");
    w.github.setFile(`${OWNER}/mono`, ".github/pkgpub.yml", `kind: julia-package\nregistry: ${w.url("AcmeRegistry")}\nsubdirs: { Baz: julia/Baz }\n`);
    await w.deliverPush("mono", "refs/tags/Baz-v0.1.0");
    await w.app.app.queue.idle();
    const bare = path.join(w.root, "served", OWNER, "AcmeRegistry.git");
    expect(git(bare, "show", "main:B/Baz/Package.toml")).toBe(`name = "Baz"\nuuid = "${BAZ}"\nrepo = "${w.url("mono")}"\nsubdir = "julia/Baz"`);
    const subtree = git(mono, "rev-parse", "Baz-v0.1.0:julia/Baz");
    expect(stored(`package/${BAZ}/${subtree}`)).toBe(true);
    const [run] = checkRunsFor("mono", git(mono, "rev-parse", "HEAD"));
    expect(run?.output?.title).toBe("Registered and published Baz v0.1.0");
  });
});

describe("tag pushed in a Hex package repository", () => {
  it("publishes the source at the tag: tarball and signed indexes; check run shows how to install", async () => {
    const widget = w.createRepo("widget", { "mix.exs": WIDGET_MIX, "lib/widget.ex": "defmodule Widget do\nend\n", "README.md": "# widget\n" });
    git(widget, "tag", "v1.0.0");
    w.push("widget");
    w.github.setFile(`${OWNER}/widget`, ".github/pkgpub.yml", "kind: hex-package\nhex_repo: acme\n");
    const r = await w.deliverPush("widget", "refs/tags/v1.0.0");
    expect(r.status).toBe(200);
    await w.app.app.queue.idle();
    for (const key of ["repos/acme/tarballs/widget-1.0.0.tar", "repos/acme/packages/widget", "repos/acme/names", "repos/acme/versions", "repos/acme/public_key"]) {
      expect(stored(key), key).toBe(true);
    }
    const [run] = checkRunsFor("widget", git(widget, "rev-parse", "v1.0.0"));
    expect(run?.conclusion).toBe("success");
    expect(run?.output?.title).toBe("Published acme/widget 1.0.0");
    expect(run?.output?.summary).toContain("mix hex.repo add acme https://pkgs.acme.test/repos/acme");
    // The signing key is the App's; nothing of it reaches the check run.
    expect(JSON.stringify([...w.github.checkRuns.values()])).not.toContain(hexKey.split("\n")[3]!);
  });
});

describe("registration by pull request", () => {
  it("pushes a branch to the registry and opens a pull request instead of committing to main", async () => {
    const BAR = "ba400000-0000-4000-8000-0000000000f2";
    const bar = w.createRepo("Bar.jl", { "Project.toml": `name = "Bar"\nuuid = "${BAR}"\nversion = "1.0.0"\n`, "src/Bar.jl": "module Bar end\n" });
    git(bar, "tag", "v1.0.0");
    w.push("Bar.jl");
    w.github.setFile(`${OWNER}/Bar.jl`, ".github/pkgpub.yml", `kind: julia-package\nregistry: ${w.url("AcmeRegistry")}\nregister: pull-request\n`);
    const bare = path.join(w.root, "served", OWNER, "AcmeRegistry.git");
    const main = git(bare, "rev-parse", "main");
    await w.deliverPush("Bar.jl", "refs/tags/v1.0.0");
    await w.app.app.queue.idle();
    expect(git(bare, "rev-parse", "main")).toBe(main);
    const pr = w.github.pulls.at(-1);
    expect(pr).toMatchObject({ owner: OWNER, repo: "AcmeRegistry", base: "main", title: "New package: Bar v1.0.0" });
    expect(git(bare, "log", "-1", "--format=%s", pr!.head)).toBe("New package: Bar v1.0.0");
    const [run] = checkRunsFor("Bar.jl", git(bar, "rev-parse", "HEAD"));
    expect(run?.conclusion).toBe("success");
    expect(run?.output?.title).toBe("Opened a registry pull request for Bar v1.0.0");
    expect(run?.output?.summary).toContain("https://github.example/acme/AcmeRegistry/pull/");
  });
});

describe("scheduled reconcile", () => {
  it("registers and publishes a tag whose push was never delivered, then does nothing on the next run", async () => {
    commitFiles(foo, { "Project.toml": `name = "Foo"\nuuid = "${FOO}"\nversion = "0.3.0"\n` }, "0.3.0");
    git(foo, "tag", "v0.3.0");
    w.push("Foo.jl"); // no delivery: GitHub sends none for more than three tags at once
    for (const name of ["AcmeRegistry", "Foo.jl", ".github"]) {
      w.github.repositories.push({ name, full_name: `${OWNER}/${name}`, clone_url: w.url(name), owner: { login: OWNER } });
    }
    const report = await w.app.reconcileNow();
    expect(report.done).toContain(`${w.url("Foo.jl")} v0.3.0: registered Foo v0.3.0`);
    const bare = path.join(w.root, "served", OWNER, "AcmeRegistry.git");
    expect(git(bare, "log", "-1", "--format=%s", "main")).toBe("New version: Foo v0.3.0");
    expect(stored(`package/${FOO}/${git(foo, "rev-parse", "v0.3.0^{tree}")}`)).toBe(true);
    expect(storeText("registries")).toContain(git(bare, "rev-parse", "main^{tree}"));
    const again = await w.app.reconcileNow();
    expect(again.done).toEqual([]);
    expect(again.failed).toEqual([]);
  });
});

describe("pkgpub app", () => {
  it("refuses to start without a webhook secret, or with Probot's default one", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const base = { PATH: process.env.PATH, APP_ID: "1", PRIVATE_KEY: privateKey, PORT: "0" };
    const none = await runCli(["app"], base);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("WEBHOOK_SECRET is not set");
    const dev = await runCli(["app"], { ...base, WEBHOOK_SECRET: "development" });
    expect(dev.code).toBe(1);
    expect(dev.stderr).toContain('Probot\'s default "development"');
    expect(none.stderr + dev.stderr).not.toContain(privateKey.split("\n")[2]!);
  });
});

describe("configuration", () => {
  it("reports an invalid .github/pkgpub.yml on the commit, naming the field", async () => {
    const bad = w.createRepo("Bad", { "README.md": "x\n" });
    git(bad, "tag", "v1.0.0");
    w.push("Bad");
    w.github.setFile(`${OWNER}/Bad`, ".github/pkgpub.yml", "kind: hex-package\nhex_repo: Not Valid\n");
    await w.deliverPush("Bad", "refs/tags/v1.0.0");
    await w.app.app.queue.idle();
    const [run] = checkRunsFor("Bad", git(bad, "rev-parse", "HEAD"));
    expect(run?.conclusion).toBe("failure");
    expect(run?.output?.title).toBe("Invalid .github/pkgpub.yml");
    expect(run?.output?.summary).toMatch(/acme\/Bad\/.github\/pkgpub.yml: hex_repo: lowercase letters/);
  });

  it("reports YAML that does not parse", async () => {
    const broken = w.createRepo("Broken", { "README.md": "x\n" });
    git(broken, "tag", "v1.0.0");
    w.push("Broken");
    w.github.setFile(`${OWNER}/Broken`, ".github/pkgpub.yml", "kind: [hex-package\n");
    await w.deliverPush("Broken", "refs/tags/v1.0.0");
    await w.app.app.queue.idle();
    const [run] = checkRunsFor("Broken", git(broken, "rev-parse", "HEAD"));
    expect(run?.conclusion).toBe("failure");
    expect(run?.output?.summary).toMatch(/pkgpub.yml \(invalid YAML\)/);
  });

  it("refuses a registry that is not on the App's GitHub (a local path, another host)", async () => {
    const pkg = w.createRepo("Stray.jl", { "Project.toml": `name = "Stray"\nuuid = "57a00000-0000-4000-8000-000000000001"\nversion = "0.1.0"\n`, "src/Stray.jl": "module Stray end\n" });
    git(pkg, "tag", "v0.1.0");
    w.push("Stray.jl");
    w.github.setFile(`${OWNER}/Stray.jl`, ".github/pkgpub.yml", `kind: julia-package\nregistry: file://${path.join(w.root, "served", OWNER, "AcmeRegistry.git")}\n`);
    await w.deliverPush("Stray.jl", "refs/tags/v0.1.0");
    await w.app.app.queue.idle();
    const [run] = checkRunsFor("Stray.jl", git(pkg, "rev-parse", "HEAD"));
    expect(run?.conclusion).toBe("failure");
    expect(run?.output?.summary).toMatch(/^registry file:\/\/.* is not on http:\/\/127.0.0.1:\d+$/);
  });

  it("refuses a store the App's environment does not allow", async () => {
    const other = w.createRepo("Elsewhere", { "Registry.toml": `name = "E"\nuuid = "e0000000-0000-4000-8000-000000000001"\n\n[packages]\n` });
    w.github.setFile(`${OWNER}/Elsewhere`, ".github/pkgpub.yml", "kind: julia-registry\nstore: /tmp/somewhere-else\n");
    await w.deliverPush("Elsewhere", "refs/heads/main");
    await w.app.app.queue.idle();
    const [run] = checkRunsFor("Elsewhere", git(other, "rev-parse", "HEAD"));
    expect(run?.conclusion).toBe("failure");
    expect(run?.output?.summary).toContain("store /tmp/somewhere-else is not one this publisher may write to");
  });
});
