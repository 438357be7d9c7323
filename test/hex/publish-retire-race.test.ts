// Publish racing retire (issue 11's extra checks): new versions of a package published while an
// old one is retired and another unretired, all at once, as separate processes on one
// directory store. Every release and the retirement must survive in the signed packages/<name>.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPackage, openVersions } from "../../src/hex/registry.js";
import { parsePublicKey } from "../../src/hex/signing.js";
import { FsStore } from "../../src/store/fs-store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { newKeyPem, readObject } from "./support/fixtures.js";
import { simpleTarball } from "./support/tarballs.js";

describe("hex publish racing retire", () => {
  const tmp = tempDir("hex-retire-race-");
  afterAll(() => tmp.cleanup());

  it("3 rounds: 4 publishes, a retire and an unretire at once lose nothing", async () => {
    const key = newKeyPem();
    const keyFile = path.join(tmp.dir, "key.pem");
    writeFileSync(keyFile, key.privatePem);
    const spec = path.join(tmp.dir, "store");
    const store = new FsStore(spec);
    const env = { ...process.env };
    const tar = (v: string) => {
      const f = path.join(tmp.dir, `shared-${v}.tar`);
      writeFileSync(f, simpleTarball("shared", v));
      return f;
    };
    const base = ["--repo", "acme", "--store", spec, "--private-key", keyFile];
    for (const v of ["0.1.0", "0.2.0"]) expect((await runCli(["hex", "publish", ...base, "--tarball", tar(v)], env)).code).toBe(0);
    expect((await runCli(["hex", "retire", ...base, "shared", "0.2.0", "--reason", "invalid"], env)).code).toBe(0);
    const pub = parsePublicKey(key.spkiPem, "key");
    let expected = ["0.1.0", "0.2.0"];
    for (let round = 0; round < 3; round++) {
      const news = [0, 1, 2, 3].map((i) => `1.${round}.${i}`);
      const retired = round % 2 === 0 ? "0.1.0" : "0.2.0";
      const unretired = round % 2 === 0 ? "0.2.0" : "0.1.0";
      const results = await Promise.all([
        ...news.map((v) => runCli(["hex", "publish", ...base, "--tarball", tar(v)], env)),
        runCli(["hex", "retire", ...base, "shared", retired, "--reason", "security", "--message", `round ${round}`], env),
        runCli(["hex", "unretire", ...base, "shared", unretired], env),
      ]);
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      expected = [...expected, ...news];
      const pkg = openPackage(await readObject(store, "repos/acme/packages/shared"), pub, "acme", "shared", "packages/shared");
      expect(pkg.releases.map((r) => r.version).sort()).toEqual([...expected].sort());
      const byVersion = new Map(pkg.releases.map((r) => [r.version, r.retired]));
      expect(byVersion.get(retired)?.message).toBe(`round ${round}`);
      expect(byVersion.get(unretired)).toBeUndefined();
      const versions = openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions");
      expect([...versions.packages.find((p) => p.name === "shared")!.versions].sort()).toEqual([...expected].sort());
    }
  }, 240_000);
});
