// `pkgpub hex publish --source` on a repository with both a mix.exs and a rebar3 project:
// --build-tool chooses; without it, the one that can be read statically is used, and it says so.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHexTarball } from "../../src/hex/tarball.js";
import { openStore } from "../../src/store/open-store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { makeRebarProject, newKeyPem, readObject, snapshot } from "./support/fixtures.js";

// An Erlang library's helper mix.exs, as telemetry ships one: it runs code to find its version.
const HELPER_MIX = `# Only used when this library is a Mix dependency; use rebar3.
defmodule Foo.MixProject do
  use Mix.Project
  {:ok, [{:application, :foo, props}]} = :file.consult("src/foo.app.src")
  @props props
  def project, do: [app: :foo, version: to_string(@props[:vsn]), language: :erlang]
end
`;
const STATIC_MIX = `defmodule Bar.MixProject do
  use Mix.Project
  def project, do: [app: :bar, version: "0.2.0", language: :erlang, description: "bar from mix", package: [licenses: ["MIT"]], deps: []]
end
`;

describe("hex publish --build-tool", () => {
  const tmp = tempDir("hex-build-tool-");
  const key = newKeyPem();
  const keyFile = path.join(tmp.dir, "key.pem");
  const storeDir = path.join(tmp.dir, "store");
  const publish = (...args: string[]) => runCli(["hex", "publish", "--repo", "acme", "--store", storeDir, "--private-key", keyFile, ...args]);

  beforeAll(() => {
    writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
    makeRebarProject(path.join(tmp.dir, "foo"), { app: "foo", vsn: '"0.1.0"', tag: "v0.1.0", extra: { "mix.exs": HELPER_MIX } });
    makeRebarProject(path.join(tmp.dir, "bar"), { app: "bar", vsn: '"0.2.0"', tag: "v0.2.0", extra: { "mix.exs": STATIC_MIX } });
  });
  afterAll(() => tmp.cleanup());

  it("uses rebar3 when the mix.exs cannot be read statically, and says why", async () => {
    const r = await publish("--source", path.join(tmp.dir, "foo"));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^mix\.exs cannot be used \(mix\.exs:6: version is the expression `to_string\(@props\[:vsn\]\)`.*\); built with rebar3 from the rebar3 project instead \(choose with --build-tool\)\n$/);
    const store = await openStore(storeDir, {});
    const t = readHexTarball(await readObject(store, "repos/acme/tarballs/foo-0.1.0.tar"));
    // rebar3_hex's view: its build tool, its file selection (rebar.config, src) and layout.
    expect(t.metadata).toMatchObject({ name: "foo", buildTools: ["rebar3"], licenses: ["Apache-2.0"] });
    expect(t.metadata.files).toEqual(["README.md", "rebar.config", "src", "src/foo.app.src", "src/foo.erl"]);
  });

  it("--build-tool mix on that repository refuses with the mix.exs line instead of falling back", async () => {
    const before = await snapshot(await openStore(storeDir, {}));
    const r = await publish("--source", path.join(tmp.dir, "foo"), "--build-tool", "mix", "--replace");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("at v0.1.0: mix.exs:6: version is the expression `to_string(@props[:vsn])`");
    expect(await snapshot(await openStore(storeDir, {}))).toEqual(before);
  });

  it("when both can be read, mix is the default (with a note) and --build-tool rebar3 picks rebar3_hex's view", async () => {
    const byMix = await publish("--source", path.join(tmp.dir, "bar"));
    expect(byMix.code).toBe(0);
    expect(byMix.stderr).toContain("both mix.exs and a rebar3 project: built with mix");
    const store = await openStore(storeDir, {});
    const m = readHexTarball(await readObject(store, "repos/acme/tarballs/bar-0.2.0.tar")).metadata;
    // mix's default files take src/ but not rebar.config, so mix guesses only itself.
    expect(m).toMatchObject({ description: "bar from mix", licenses: ["MIT"], buildTools: ["mix"] });
    expect(m.files).toEqual(["README.md", "mix.exs", "src", "src/bar.app.src", "src/bar.erl"]);

    const byRebar = await publish("--source", path.join(tmp.dir, "bar"), "--build-tool", "rebar3", "--replace");
    expect(byRebar.code).toBe(0);
    expect(byRebar.stderr).toBe("");
    expect(byRebar.stdout).toContain("bar 0.2.0: replaced");
    const r = readHexTarball(await readObject(store, "repos/acme/tarballs/bar-0.2.0.tar")).metadata;
    expect(r).toMatchObject({ description: "The bar package", licenses: ["Apache-2.0"], buildTools: ["rebar3"] });
  });

  it("refuses a build tool that is not mix or rebar3, and --build-tool without --source", async () => {
    const bad = await publish("--source", path.join(tmp.dir, "bar"), "--build-tool", "make");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--build-tool must be mix or rebar3, not "make"');
    const noSource = await publish("--tarball", path.join(tmp.dir, "x.tar"), "--build-tool", "mix");
    expect(noSource.code).not.toBe(0);
    expect(noSource.stderr).toContain("--build-tool goes with --source");
  });
});
