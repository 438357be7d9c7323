// `pkgpub verify` on Hex repositories: a clean repository passes, and each way a repository can
// be broken in the bucket (a replaced tarball, garbage or wrongly signed indexes, a missing
// tarball, indexes that disagree) is named, in directory and S3 stores.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { openVersions, signNames, signVersions } from "../../src/hex/registry.js";
import { parsePrivateKey, parsePublicKey } from "../../src/hex/signing.js";
import type { Store } from "../../src/store/store.js";
import { runCli, spawnCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { newKeyPem, readObject } from "./support/fixtures.js";
import { simpleTarball } from "./support/tarballs.js";

const s3Env = inject("s3Env");

describe.each<StoreKind>(["directory", "s3"])("pkgpub verify on Hex repositories in a %s store", (kind) => {
  const tmp = tempDir("hex-verify-");
  const key = newKeyPem();
  const other = newKeyPem();
  const keyFile = path.join(tmp.dir, "key.pem");
  let store: Store;
  let spec: string;
  let env: NodeJS.ProcessEnv;
  let published: Map<string, Buffer>;
  const verify = () => runCli(["verify", "--store", spec], env);

  beforeAll(async () => {
    writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
    ({ store, spec, env } = await openTestStores(kind, tmp.dir, s3Env));
    env = { ...process.env, ...env };
    const tarballs: Array<[string, string]> = [["foo", "1.0.0"], ["foo", "1.1.0"], ["bar", "0.2.0"]];
    for (const [name, version] of tarballs) {
      const file = path.join(tmp.dir, `${name}-${version}.tar`);
      writeFileSync(file, simpleTarball(name, version));
      const r = await runCli(["hex", "publish", "--repo", "acme", "--store", spec, "--private-key", keyFile, "--tarball", file], env);
      expect(r.code, r.stderr).toBe(0);
    }
    const retire = await runCli(["hex", "retire", "--repo", "acme", "--store", spec, "--private-key", keyFile, "foo", "1.0.0", "--reason", "security", "--message", "CVE"], env);
    expect(retire.code).toBe(0);
    published = new Map();
    for await (const e of store.list("")) published.set(e.key, await readObject(store, e.key));
  });
  afterAll(() => tmp.cleanup());

  // Each case breaks the store its own way; start every one from the published state.
  beforeEach(async () => {
    for await (const e of store.list("")) if (!published.has(e.key)) await store.delete(e.key);
    for (const [k, bytes] of published) await store.put(k, bytes);
  });

  it("passes a clean repository, counting its objects", async () => {
    const r = await verify();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("hex repository acme: 2 packages");
    // public_key, names, versions, 2 packages, 3 tarballs
    expect(r.stdout).toMatch(/8 objects checked in .*: all good/);
  });

  it("names a tarball replaced by other bytes", async () => {
    await store.put("repos/acme/tarballs/foo-1.1.0.tar", simpleTarball("foo", "1.1.0", [{ name: "bar", requirement: "~> 0.2", optional: false, app: "bar" }]));
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/problem: repos\/acme\/tarballs\/foo-1\.1\.0\.tar: sha256 is [0-9a-f]{64} but repos\/acme\/packages\/foo signs [0-9a-f]{64}/);
    expect(r.stdout).toContain("1 problems");
  });

  it("names a tarball that holds another release", async () => {
    await store.put("repos/acme/tarballs/bar-0.2.0.tar", simpleTarball("foo", "1.0.0"));
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("repos/acme/tarballs/bar-0.2.0.tar: metadata.config says foo 1.0.0");
  });

  it("names garbage names and a missing tarball", async () => {
    await store.put("repos/acme/names", "not a signed index at all");
    await store.delete("repos/acme/tarballs/bar-0.2.0.tar");
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("problem: repos/acme/names: not gzip data");
    expect(r.stderr).toContain("problem: repos/acme/tarballs/bar-0.2.0.tar: missing (bar 0.2.0, named by repos/acme/packages/bar)");
  });

  it("names an index signed with another key", async () => {
    await store.put("repos/acme/names", signNames({ repository: "acme", packages: [{ name: "bar" }, { name: "foo" }] }, parsePrivateKey(other.privatePem, "other")));
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("problem: repos/acme/names: signature does not verify with the repository's public key");
  });

  it("names versions and names that disagree with packages/, though correctly signed", async () => {
    const priv = parsePrivateKey(key.privatePem, "key");
    const versions = openVersions(published.get("repos/acme/versions")!, parsePublicKey(key.spkiPem, "pub"), "acme", "versions");
    const foo = versions.packages.find((p) => p.name === "foo")!;
    expect(foo).toEqual({ name: "foo", versions: ["1.0.0", "1.1.0"], retired: [0] });
    await store.put("repos/acme/versions", signVersions({ repository: "acme", packages: [{ ...foo, versions: ["1.0.0"], retired: [] }, { name: "ghost", versions: ["1.0.0"], retired: [] }] }, priv));
    await store.put("repos/acme/names", signNames({ repository: "acme", packages: [{ name: "foo" }] }, priv));
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("repos/acme/versions: foo has versions [1.0.0], repos/acme/packages/foo has [1.0.0, 1.1.0]");
    expect(r.stderr).toContain('repos/acme/versions: lists "ghost", but repos/acme/packages/ghost is missing');
    expect(r.stderr).toContain("repos/acme/versions: does not list bar, which repos/acme/packages/bar holds");
    expect(r.stderr).toContain("repos/acme/names: does not list bar, which repos/acme/packages/bar holds");
  });

  it("names a retirement that versions and packages/ disagree on", async () => {
    const priv = parsePrivateKey(key.privatePem, "key");
    const versions = openVersions(published.get("repos/acme/versions")!, parsePublicKey(key.spkiPem, "pub"), "acme", "versions");
    await store.put("repos/acme/versions", signVersions({ ...versions, packages: versions.packages.map((p) => ({ ...p, retired: [] })) }, priv));
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("repos/acme/versions: foo marks retired [], repos/acme/packages/foo retires [1.0.0]");
  });

  it("names a repository without its public_key", async () => {
    await store.delete("repos/acme/public_key");
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("repos/acme/public_key: missing, so no signature in repository acme can be checked");
  });
});

describe("pkgpub verify on a store with nothing in it", () => {
  const tmp = tempDir("verify-empty-");
  afterAll(() => tmp.cleanup());

  it("exits 1 when the directory does not exist, and creates nothing", async () => {
    const dir = path.join(tmp.dir, "no-such-store");
    const r = await runCli(["verify", "--store", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pkgpub verify: directory ${dir} does not exist`);
    expect(existsSync(dir)).toBe(false);
  });

  it.each<StoreKind>(["directory", "s3"])("exits 1 on an empty %s store", async (kind) => {
    const { spec, env } = await openTestStores(kind, path.join(tmp.dir, kind), s3Env);
    if (kind === "directory") (await import("node:fs")).mkdirSync(spec, { recursive: true });
    const r = await runCli(["verify", "--store", spec], { ...process.env, ...env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds nothing to verify: no registries and no repos\//);
  });
});

describe("store typos", () => {
  const tmp = tempDir("store-typos-");
  afterAll(() => tmp.cleanup());

  it.each([
    ["s3:/bucket", /unsupported store \(did you mean s3:\/\/bucket\?\)/],
    ["s3:bucket", /did you mean s3:\/\/bucket\?/],
    ["S3://bucket", /unsupported store/],
    ["gs://bucket", /unsupported store/],
    ["file:data", /did you mean file:\/\/\/absolute\/path\?/],
    ["s3//bucket", /looks like a URL missing its ":"/],
  ])("`--store %s` is refused naming the accepted forms, and publishes nothing", async (value, why) => {
    const file = path.join(tmp.dir, "foo.tar");
    writeFileSync(file, simpleTarball("foo", "1.0.0"));
    const keyFile = path.join(tmp.dir, "key.pem");
    writeFileSync(keyFile, newKeyPem().privatePem, { mode: 0o600 });
    const r = await spawnCli(["hex", "publish", "--repo", "acme", "--store", value, "--private-key", keyFile, "--tarball", file], { cwd: tmp.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain("use a directory path, file:///absolute/path or s3://bucket[/prefix]");
    expect(existsSync(path.join(tmp.dir, value.split("/")[0]!))).toBe(false);
  });
});
