import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openNames, openPackage, openVersions } from "../../src/hex/registry.js";
import { parsePublicKey } from "../../src/hex/signing.js";
import { readHexTarball } from "../../src/hex/tarball.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { makeMixProject, makeRebarProject, newKeyPem, readObject, snapshot, vector, vectorText } from "./support/fixtures.js";
import { metadataText, rawTarball, simpleTarball } from "./support/tarballs.js";

const s3Env = inject("s3Env");

const MIX_EXS = `defmodule Widget.MixProject do
  use Mix.Project
  @version "1.0.0"
  def project do
    [app: :widget, version: @version, elixir: "~> 1.14", description: "Widgets", package: package(), deps: deps(), docs: [source_ref: "v#{@version}"]]
  end
  defp package, do: [licenses: ["MIT"], links: %{"Source" => "https://example.invalid/widget"}]
  defp deps do
    [{:foo, "~> 0.1", repo: "acme"}, {:jason, "~> 1.4"}, {:ex_doc, ">= 0.0.0", only: :dev}]
  end
end
`;

describe.each<StoreKind>(["directory", "s3"])("hex publish into a %s store", (kind) => {
  const tmp = tempDir("hex-publish-");
  const key = newKeyPem();
  const otherKey = newKeyPem();
  let store: Store;
  let spec: string;
  let env: NodeJS.ProcessEnv;
  const keyFile = path.join(tmp.dir, "private_key.pem");
  const otherKeyFile = path.join(tmp.dir, "other_key.pem");
  const pub = parsePublicKey(key.spkiPem, "test key");
  const publish = (...args: string[]) => runCli(["hex", "publish", "--repo", "acme", "--store", spec, ...args], env);
  const allOutput: string[] = [];
  const record = async (p: ReturnType<typeof publish>) => {
    const r = await p;
    allOutput.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
    writeFileSync(otherKeyFile, otherKey.privatePem, { mode: 0o600 });
    ({ store, spec, env } = await openTestStores(kind, tmp.dir, s3Env));
    env = { ...process.env, ...env, HEX_TEST_KEY: key.privatePem };
    makeRebarProject(path.join(tmp.dir, "foo"), { app: "foo", vsn: "git", tag: "v0.1.0" });
    makeRebarProject(path.join(tmp.dir, "bar"), { app: "bar", vsn: '"0.2.0"', tag: "v0.2.0", deps: [["foo", "~> 0.1"]], locked: { foo: "0.1.0" } });
    makeMixProject(path.join(tmp.dir, "widget"), MIX_EXS, "v1.0.0");
  });
  function writeFile(name: string, bytes: Uint8Array): string {
    const file = path.join(tmp.dir, `${kind}-${name}`);
    writeFileSync(file, bytes);
    return file;
  }
  afterAll(() => {
    // The private key must not have leaked into anything the CLI printed.
    const body = key.privatePem.split("\n")[5]!;
    for (const out of allOutput) expect(out).not.toContain(body);
    tmp.cleanup();
  });

  it("publishes a rebar3 project from a git tag: tarball, signed packages/versions/names, public_key", async () => {
    const r = await record(publish("--private-key", keyFile, "--source", path.join(tmp.dir, "foo")));
    // The S3 test server has no conditional writes, and says so.
    if (kind === "s3") expect(r.stderr).toMatch(/^s3:\/\/\S+ at http:\S+ has no conditional writes: using write-then-verify\n$/);
    else expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("foo 0.1.0: published in repository acme");
    const tarball = readHexTarball(await readObject(store, "repos/acme/tarballs/foo-0.1.0.tar"));
    expect(tarball.metadata).toMatchObject({ name: "foo", version: "0.1.0", app: "foo", buildTools: ["rebar3"], licenses: ["Apache-2.0"] });
    // rebar3_hex's default selection: no test/ directory; the .app.src carries the resolved vsn.
    expect(tarball.contents).toEqual(["README.md", "rebar.config", "src/foo.app.src", "src/foo.erl"]);
    const pkg = openPackage(await readObject(store, "repos/acme/packages/foo"), pub, "acme", "foo", "packages/foo");
    expect(pkg.releases.map((r) => r.version)).toEqual(["0.1.0"]);
    expect(Buffer.from(pkg.releases[0]!.outerChecksum)).toEqual(Buffer.from(tarball.outerChecksum));
    expect(Buffer.from(pkg.releases[0]!.innerChecksum)).toEqual(Buffer.from(tarball.innerChecksum));
    expect(openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions").packages).toEqual([{ name: "foo", versions: ["0.1.0"], retired: [] }]);
    expect(openNames(await readObject(store, "repos/acme/names"), pub, "acme", "names").packages).toEqual([{ name: "foo" }]);
    expect((await readObject(store, "repos/acme/public_key")).toString()).toBe(key.spkiPem);
  });

  it("publishes a dependent rebar3 package with --ref and a mix package, reading the key from env:VAR", async () => {
    const bar = await record(publish("--private-key", "env:HEX_TEST_KEY", "--source", path.join(tmp.dir, "bar"), "--ref", "v0.2.0"));
    expect(bar.code).toBe(0);
    const barPkg = openPackage(await readObject(store, "repos/acme/packages/bar"), pub, "acme", "bar", "packages/bar");
    expect(barPkg.releases[0]!.dependencies).toEqual([{ package: "foo", requirement: "~> 0.1" }]);

    const widget = await record(publish("--private-key", keyFile, "--source", path.join(tmp.dir, "widget")));
    expect(widget.code).toBe(0);
    const w = openPackage(await readObject(store, "repos/acme/packages/widget"), pub, "acme", "widget", "packages/widget");
    // Same-repository deps carry no repository; hexpm ones name it; dev-only deps are left out.
    expect(w.releases[0]!.dependencies).toEqual([
      { package: "foo", requirement: "~> 0.1" },
      { package: "jason", requirement: "~> 1.4", repository: "hexpm" },
    ]);
    const t = readHexTarball(await readObject(store, "repos/acme/tarballs/widget-1.0.0.tar"));
    expect(t.contents).toEqual(["LICENSE", "README.md", "lib/thing.ex", "mix.exs"]);
    expect(t.metadata).toMatchObject({ buildTools: ["mix"], elixir: "~> 1.14", description: "Widgets", links: [["Source", "https://example.invalid/widget"]] });
    expect(openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions").packages.map((p) => p.name)).toEqual(["bar", "foo", "widget"]);
  });

  it("re-publishing the same release writes nothing", async () => {
    const before = await snapshot(store, "repos/acme/");
    const r = await record(publish("--private-key", keyFile, "--source", path.join(tmp.dir, "foo"), "--ref", "v0.1.0"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("foo 0.1.0: already published (same bytes)");
    expect(await snapshot(store, "repos/acme/")).toEqual(before);
  });

  it("refuses different bytes for a published version unless --replace", async () => {
    const file = path.join(tmp.dir, "foo-0.1.0.tar");
    writeFileSync(file, rawTarball(metadataText("foo", "0.1.0")));
    const before = await snapshot(store, "repos/acme/");
    const refused = await record(publish("--private-key", keyFile, "--tarball", file));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/foo 0\.1\.0 is already published with different bytes \(repos\/acme\/tarballs\/foo-0\.1\.0\.tar, sha256 [0-9a-f]{64}\); pass --replace to overwrite it/);
    expect(await snapshot(store, "repos/acme/")).toEqual(before);

    const replaced = await record(publish("--private-key", keyFile, "--tarball", file, "--replace"));
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain("foo 0.1.0: replaced");
    const pkg = openPackage(await readObject(store, "repos/acme/packages/foo"), pub, "acme", "foo", "packages/foo");
    expect(Buffer.from(pkg.releases[0]!.outerChecksum)).toEqual(Buffer.from(readHexTarball(await readObject(store, "repos/acme/tarballs/foo-0.1.0.tar")).outerChecksum));
  });

  it("reads mix's list-form requirements from a --tarball", async () => {
    const file = writeFile("listform.tar", rawTarball(vectorText("mix_style_metadata.config").replace(/<<"foo">>/g, '<<"listform">>')));
    const r = await record(publish("--repo", "listform", "--private-key", keyFile, "--tarball", file));
    expect(r.code).toBe(0);
    const pkg = openPackage(await readObject(store, "repos/listform/packages/listform"), pub, "listform", "listform", "packages/listform");
    expect(pkg.releases[0]!.dependencies).toEqual([{ package: "jason", requirement: "~> 1.4", repository: "hexpm" }]);
  });

  it("publishes a tarball byte for byte into a second repository with its own key (map-form requirements)", async () => {
    const file = path.join(tmp.dir, "foo-0.1.0-vector.tar");
    writeFileSync(file, vector("foo-0.1.0.tar"));
    // The vector is foo 0.1.0 too: publish it into a second repository with its own key.
    const r = await record(runCli(["hex", "publish", "--repo", "other", "--store", spec, "--private-key", otherKeyFile, "--tarball", file], env));
    expect(r.code).toBe(0);
    expect((await readObject(store, "repos/other/tarballs/foo-0.1.0.tar")).equals(vector("foo-0.1.0.tar"))).toBe(true);
    const pkg = openPackage(await readObject(store, "repos/other/packages/foo"), parsePublicKey(otherKey.spkiPem, "other"), "other", "foo", "packages/foo");
    expect(pkg.releases[0]!.dependencies).toEqual([{ package: "jason", requirement: "~> 1.4", repository: "hexpm" }]);
    expect(Buffer.from(pkg.releases[0]!.innerChecksum).toString("hex").toUpperCase()).toBe("CDE317A428347D80767E3DDB8AF397EF87CF78C4F63248D7013332610FFB8CBC");
    // Each repository keeps its own key and index.
    expect(openNames(await readObject(store, "repos/other/names"), parsePublicKey(otherKey.spkiPem, "other"), "other", "names").packages).toEqual([{ name: "foo" }]);
  });

  it("a publish that stopped after the tarball converges when run again", async () => {
    const file = path.join(tmp.dir, "halfway-1.0.0.tar");
    writeFileSync(file, simpleTarball("halfway", "1.0.0"));
    await store.put("repos/acme/tarballs/halfway-1.0.0.tar", readFileSync(file));
    const r = await record(publish("--private-key", keyFile, "--tarball", file));
    expect(r.code).toBe(0);
    expect(openPackage(await readObject(store, "repos/acme/packages/halfway"), pub, "acme", "halfway", "packages/halfway").releases.map((x) => x.version)).toEqual(["1.0.0"]);
    expect(openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions").packages.map((p) => p.name)).toContain("halfway");
  });

  it("refuses a repository whose indexes are signed by another key, even without public_key", async () => {
    const first = await record(publish("--repo", "nokey", "--private-key", otherKeyFile, "--tarball", writeFile("nokey-a.tar", simpleTarball("aaa", "1.0.0"))));
    expect(first.code).toBe(0);
    await store.delete("repos/nokey/public_key");
    const before = await snapshot(store);
    const r = await record(publish("--repo", "nokey", "--private-key", keyFile, "--tarball", writeFile("nokey-b.tar", simpleTarball("bbb", "1.0.0"))));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("repos/nokey/versions: signature does not verify with the repository's public key (is --private-key the key of repository nokey?)");
    expect(await snapshot(store)).toEqual(before);
  });

  it("the next publish repairs index entries lost to a race (stale packages/<name> and versions)", async () => {
    const file = (n: string, v: string) => writeFile(`${n}-${v}.tar`, simpleTarball(n, v));
    expect((await record(publish("--repo", "race", "--private-key", keyFile, "--tarball", file("alpha", "0.1.0")))).code).toBe(0);
    const staleAlpha = await readObject(store, "repos/race/packages/alpha");
    const staleVersions = await readObject(store, "repos/race/versions");
    expect((await record(publish("--repo", "race", "--private-key", keyFile, "--tarball", file("alpha", "0.2.0")))).code).toBe(0);
    expect((await record(publish("--repo", "race", "--private-key", keyFile, "--tarball", file("beta", "1.0.0")))).code).toBe(0);
    // What a last writer holding an old read would leave behind on a store without conditional writes.
    await store.put("repos/race/packages/alpha", staleAlpha);
    await store.put("repos/race/versions", staleVersions);
    expect((await record(publish("--repo", "race", "--private-key", keyFile, "--tarball", file("alpha", "0.3.0")))).code).toBe(0);
    expect(openPackage(await readObject(store, "repos/race/packages/alpha"), pub, "race", "alpha", "alpha").releases.map((r) => r.version)).toEqual(["0.1.0", "0.2.0", "0.3.0"]);
    const versions = openVersions(await readObject(store, "repos/race/versions"), pub, "race", "versions");
    expect(versions.packages).toEqual([
      { name: "alpha", versions: ["0.1.0", "0.2.0", "0.3.0"], retired: [] },
      { name: "beta", versions: ["1.0.0"], retired: [] },
    ]);
    expect(openNames(await readObject(store, "repos/race/names"), pub, "race", "names").packages.map((p) => p.name)).toEqual(["alpha", "beta"]);
  });

  it("retires and unretires a release in packages/<name> and versions", async () => {
    const retire = await record(runCli(["hex", "retire", "--repo", "acme", "--store", spec, "--private-key", keyFile, "foo", "0.1.0", "--reason", "security", "--message", "CVE-2024-1"], env));
    expect(retire.code).toBe(0);
    let pkg = openPackage(await readObject(store, "repos/acme/packages/foo"), pub, "acme", "foo", "packages/foo");
    expect(pkg.releases[0]!.retired).toEqual({ reason: "security", message: "CVE-2024-1" });
    expect(openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions").packages.find((p) => p.name === "foo")).toEqual({ name: "foo", versions: ["0.1.0"], retired: [0] });

    const unretire = await record(runCli(["hex", "unretire", "--repo", "acme", "--store", spec, "--private-key", keyFile, "foo", "0.1.0"], env));
    expect(unretire.code).toBe(0);
    pkg = openPackage(await readObject(store, "repos/acme/packages/foo"), pub, "acme", "foo", "packages/foo");
    expect(pkg.releases[0]!.retired).toBeUndefined();
    expect(openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions").packages.find((p) => p.name === "foo")!.retired).toEqual([]);

    const bad = await record(runCli(["hex", "retire", "--repo", "acme", "--store", spec, "--private-key", keyFile, "foo", "9.9.9", "--reason", "invalid"], env));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('foo has no release "9.9.9" in repository acme (it has 0.1.0)');
    const badReason = await record(runCli(["hex", "retire", "--repo", "acme", "--store", spec, "--private-key", keyFile, "foo", "0.1.0", "--reason", "oops"], env));
    expect(badReason.code).toBe(2);
    expect(badReason.stderr).toContain("--reason must be one of other, invalid, security, deprecated, renamed");
  });

  describe("bad input: a clear error and nothing written", () => {
    const cases: Array<[string, () => string[], RegExp | string, number?]> = [
      ["invalid package name", () => ["--private-key", keyFile, "--tarball", writeTmp("badname.tar", rawTarball(metadataText("Bad-Name", "1.0.0")))], 'metadata.config name: package name "Bad-Name" is not valid'],
      ["invalid version", () => ["--private-key", keyFile, "--tarball", writeTmp("badversion.tar", rawTarball(metadataText("okname", "1.0")))], 'metadata.config version: version "1.0" is not a SemVer 2.0 version'],
      ["tarball with an extra entry", () => ["--private-key", keyFile, "--tarball", writeTmp("extra.tar", rawTarball(metadataText("okname", "1.0.0"), { extraEntry: true }))], 'unexpected entry "README"'],
      ["tarball with a bad checksum", () => ["--private-key", keyFile, "--tarball", writeTmp("badsum.tar", rawTarball(metadataText("okname", "1.0.0"), { badChecksum: true }))], /CHECKSUM [0-9A-F]{64} does not match the contents/],
      ["tag that does not match the version", () => ["--private-key", keyFile, "--source", makeRebarProject(path.join(tmp.dir, `mismatch-${kind}`), { app: "mism", vsn: '"0.3.0"', tag: "v0.3.1" })], 'src/mism.app.src: vsn "0.3.0" does not match the tag "v0.3.1"'],
      ["mix version that does not match the tag", () => ["--private-key", keyFile, "--source", makeMixProject(path.join(tmp.dir, `mixmismatch-${kind}`), MIX_EXS, "v1.0.1")], 'mix.exs: version "1.0.0" does not match the tag "v1.0.1"'],
      ["dynamic mix.exs", () => ["--private-key", keyFile, "--source", makeMixProject(path.join(tmp.dir, `mixdyn-${kind}`), MIX_EXS.replace('@version "1.0.0"', '@version File.read!("VERSION")'), "v1.0.0")], /mix.exs:3: version is the expression `File.read!\("VERSION"\)`.*mix hex.build/],
      ["no such tag", () => ["--private-key", keyFile, "--source", path.join(tmp.dir, "foo"), "--ref", "v9.9.9"], 'no tag "v9.9.9"'],
      ["missing private key", () => ["--tarball", vectorFile()], "missing required --private-key", 2],
      ["unset key variable", () => ["--private-key", "env:NO_SUCH_HEX_KEY", "--tarball", vectorFile()], "--private-key env:NO_SUCH_HEX_KEY: the environment variable NO_SUCH_HEX_KEY is not set"],
      ["unreadable key file", () => ["--private-key", path.join(tmp.dir, "nope.pem"), "--tarball", vectorFile()], /--private-key .*nope.pem: cannot read the file/],
      ["a public key given as the private key", () => ["--private-key", writeTmp("pub.pem", key.spkiPem), "--tarball", vectorFile()], /--private-key .*pub.pem: not a PEM private key/],
      ["key text instead of a file", () => [`--private-key=${key.privatePem}`, "--tarball", vectorFile()], "--private-key takes a PEM file path or env:VAR, not the key text itself", 2],
      ["a key that is not the repository's", () => ["--private-key", otherKeyFile, "--source", path.join(tmp.dir, "foo")], "the private key does not belong to repository acme: repos/acme/public_key"],
      ["an invalid repository name", () => ["--private-key", keyFile, "--tarball", vectorFile(), "--repo", "Bad/Repo"], '--repo: "Bad/Repo" is not a valid repository name'],
    ];
    function writeTmp(name: string, bytes: Uint8Array | string): string {
      const file = path.join(tmp.dir, `${kind}-${name}`);
      writeFileSync(file, bytes);
      return file;
    }
    function vectorFile(): string {
      return writeTmp("vector.tar", vector("edge_ok.tar"));
    }
    it.each(cases)("%s", async (_label, args, message, exitCode = 1) => {
      const before = await snapshot(store);
      const argv = args();
      const repoAt = argv.indexOf("--repo");
      const r = await record(repoAt >= 0 ? runCli(["hex", "publish", "--store", spec, ...argv], env) : publish(...argv));
      expect(r.code).toBe(exitCode);
      if (typeof message === "string") expect(r.stderr).toContain(message);
      else expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(await snapshot(store)).toEqual(before);
    });
  });
});

