import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mirrorJulia } from "../../src/mirror/julia.js";
import { startServer, type RunningServer } from "../../src/server/start-server.js";
import { FsStore } from "../../src/store/fs-store.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { git, tempDir } from "../support/git-repo.js";
import { BAR_UUID, FOO_UUID, REGISTRY_UUID, makeRegistryFixture, type RegistryFixture } from "../julia/fixtures.js";
import { FakeUpstream } from "../server/fake-upstream.js";

async function keys(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list("")) if (!o.key.startsWith(".")) out.push(o.key);
  return out.sort();
}

async function etags(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list("")) if (!o.key.startsWith(".")) out.push(`${o.key} ${o.etag}`);
  return out.sort();
}

async function text(store: Store, key: string): Promise<string> {
  const obj = await store.get(key);
  if (!obj) throw new Error(`${key} missing`);
  const parts: Buffer[] = [];
  for await (const c of obj.body) parts.push(c as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

const STDLIB = "ade2ca70-3891-5945-98fb-dc099432e06a";

/** A format-2 manifest naming Foo v0.2.0 only (of Foo's two versions and Bar), a stdlib and a dev'ed path. */
function manifest(fooTree: string): string {
  return `julia_version = "1.10.4"\nmanifest_format = "2.0"\nproject_hash = "00"\n\n` +
    `[[deps.Dates]]\ndeps = ["Printf"]\nuuid = "${STDLIB}"\n\n` +
    `[[deps.Foo]]\ndeps = ["Dates"]\ngit-tree-sha1 = "${fooTree}"\nuuid = "${FOO_UUID}"\nversion = "0.2.0"\n\n` +
    `[[deps.Mine]]\npath = "../Mine"\nuuid = "99999999-9999-4999-8999-999999999999"\nversion = "0.1.0"\n`;
}

describe("pkgpub mirror julia, from a pkgpub serve of a published registry", () => {
  const t = tempDir("pkgpub-mirror-julia-");
  let fx: RegistryFixture;
  let upstream: RunningServer;
  let registryTree: string;
  let manifestFile: string;

  beforeAll(async () => {
    fx = await makeRegistryFixture(t.dir);
    const published = await runCli(["julia", "publish", "--registry", fx.dir, "--store", path.join(t.dir, "upstream-store")], { ...process.env, PKGPUB_GIT_CACHE_DIR: path.join(t.dir, "cache") });
    expect(published.code, published.stderr).toBe(0);
    registryTree = git(fx.dir, "rev-parse", "HEAD^{tree}");
    upstream = await startServer({ store: path.join(t.dir, "upstream-store"), port: 0, log: new PassThrough() });
    manifestFile = path.join(t.dir, "Manifest.toml");
    writeFileSync(manifestFile, manifest(fx.fooTrees["0.2.0"]!));
  });
  afterAll(async () => {
    await upstream?.close();
    await fx?.artifactServer.close();
    t.cleanup();
  });

  const storeDir = () => path.join(t.dir, "mirror-store");
  const mirror = () => runCli(["mirror", "julia", "--manifest", manifestFile, "--upstream", upstream.url, "--store", storeDir()]);

  it("brings exactly the manifest's package, its artifact, the registry and its line", async () => {
    const r = await mirror();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const store = new FsStore(storeDir());
    expect(await keys(store)).toEqual(
      [
        "mirror/julia.json",
        "registries",
        "registries.conservative",
        `registry/${REGISTRY_UUID}/${registryTree}`,
        `package/${FOO_UUID}/${fx.fooTrees["0.2.0"]}`,
        `artifact/${fx.artifact.treeHash}`,
      ].sort(),
    );
    expect(await text(store, "registries")).toBe(`/registry/${REGISTRY_UUID}/${registryTree}\n`);
    // in both flavours: conservative clients (Pkg's default) see the mirrored registry too
    expect(await text(store, "registries.conservative")).toBe(`/registry/${REGISTRY_UUID}/${registryTree}\n`);
    expect(r.stdout).toContain("Dates skipped: a standard library");
    expect(r.stdout).toContain("Mine skipped: tracked by path");
    const record = JSON.parse(await text(store, "mirror/julia.json"));
    expect(record.packages).toEqual([{ name: "Foo", uuid: FOO_UUID, version: "0.2.0", tree: fx.fooTrees["0.2.0"], upstream: upstream.url }]);
    // The artifact was fetched from the upstream Pkg server, not its download URL.
    // (The upstream store's copy is byte-identical to ours.)
    expect(readFileSync(path.join(storeDir(), "artifact", fx.artifact.treeHash)).equals(readFileSync(path.join(t.dir, "upstream-store", "artifact", fx.artifact.treeHash)))).toBe(true);
  });

  it("a re-run writes nothing and fetches no tarball", async () => {
    const store = new FsStore(storeDir());
    const before = await etags(store);
    const served = await startServer({ store: storeDir(), port: 0, log: new PassThrough() });
    try {
      const page = await (await fetch(`${served.url}/`)).text();
      expect(page).toContain(`Julia <span class="muted">from ${upstream.url}</span>`);
      expect(page).toContain("<tr><td><code>Foo</code></td><td>0.2.0</td></tr>");
    } finally {
      await served.close();
    }
    const r = await mirror();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("0 objects written");
    expect(await etags(store)).toEqual(before);
  });

  it("keeps the store's own registry lines", async () => {
    const store = new FsStore(path.join(t.dir, "own-store"));
    const own = `/registry/0a1b2c3d-0000-4000-8000-00000000000a/${"c".repeat(40)}\n`;
    await store.put("registries", own);
    const r = await runCli(["mirror", "julia", "--manifest", manifestFile, "--upstream", upstream.url, "--store", path.join(t.dir, "own-store")]);
    expect(r.code, r.stderr).toBe(0);
    expect(await text(store, "registries")).toBe(`${own}/registry/${REGISTRY_UUID}/${registryTree}\n`);
  });

  it("refuses a tampered package tarball with its reason and stores nothing", async () => {
    const fake = await FakeUpstream.start();
    try {
      const good = readFileSync(path.join(t.dir, "upstream-store", "package", BAR_UUID, fx.barTree));
      // Bar's bytes where Foo v0.2.0 should be: a valid tarball of the wrong tree.
      fake.bytes(`/package/${FOO_UUID}/${fx.fooTrees["0.2.0"]}`, good);
      fake.bytes("/registries", Buffer.from(`/registry/${REGISTRY_UUID}/${registryTree}\n`));
      const store = new FsStore(path.join(t.dir, "tampered-store"));
      const report = await mirrorJulia({ manifests: [{ file: "Manifest.toml", text: manifest(fx.fooTrees["0.2.0"]!) }], upstream: fake.url, store });
      expect(report.failed).toHaveLength(1);
      expect(report.failed[0]!.what).toContain("Foo v0.2.0");
      expect(report.failed[0]!.reason).toMatch(/tarball tree hash [0-9a-f]{40} does not match .*refused, not stored/);
      expect(await keys(store)).toEqual([]);
      expect(fake.count(`/registry/${REGISTRY_UUID}/${registryTree}`)).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it("names the package when the upstream lacks it, and exits 1", async () => {
    const missing = path.join(t.dir, "Missing.toml");
    writeFileSync(missing, manifest("e".repeat(40)));
    const r = await runCli(["mirror", "julia", "--manifest", missing, "--upstream", upstream.url, "--store", path.join(t.dir, "missing-store")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`failed: Foo v0.2.0 (${FOO_UUID} tree ${"e".repeat(40)}): the upstream has no package/`);
  });

  it("reaches an upstream behind a token with PKGPUB_HTTP_AUTH, and never prints the token", async () => {
    const secret = "tok-3f9a-never-printed";
    const guarded = await startServer({ store: path.join(t.dir, "upstream-store"), port: 0, log: new PassThrough(), tokens: [{ name: "ci", token: secret, scopes: ["/"] }] });
    try {
      const dir = path.join(t.dir, "token-store");
      const args = ["mirror", "julia", "--manifest", manifestFile, "--upstream", guarded.url, "--store", dir];
      const without = await runCli(args);
      expect(without.code).toBe(1);
      expect(without.stderr).toContain("HTTP 401");
      const env = { ...process.env, PKGPUB_HTTP_AUTH: `${new URL(guarded.url).host}=bearer:env:UPSTREAM_TOKEN`, UPSTREAM_TOKEN: secret };
      const withToken = await runCli(args, env);
      expect(withToken.stderr).toBe("");
      expect(withToken.code).toBe(0);
      expect(`${without.stdout}${without.stderr}${withToken.stdout}`).not.toContain(secret);
    } finally {
      await guarded.close();
    }
  });
});
