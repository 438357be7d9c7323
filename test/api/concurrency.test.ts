import { createPrivateKey } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeEtf, type EtfMap } from "../../src/hex/etf.js";
import { openNames, openPackage, openVersions } from "../../src/hex/registry.js";
import { publicKeyOf } from "../../src/hex/signing.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { newKeyPem, readObject } from "../hex/support/fixtures.js";
import { simpleTarball } from "../hex/support/tarballs.js";
import { hexRequest, startApiServe, type ServeHandle } from "./support.js";

const s3Env = inject("s3Env");

/**
 * The API door and the CLI writing one repository at once: publishes through `pkgpub serve`
 * racing `pkgpub hex publish --tarball` and retires from both sides, on new packages and on
 * one package they all touch. Afterwards every release and every retirement is in
 * packages/<name>, versions and names, as a client reads them.
 */
describe.each<StoreKind>(["directory", "s3"])("API and CLI writers racing into one repository (%s store)", (kind) => {
  const tmp = tempDir("api-race-");
  const key = newKeyPem();
  const publicKey = publicKeyOf(createPrivateKey(key.privatePem));
  const keyFile = path.join(tmp.dir, "cli-key.pem");
  let store: Store;
  let spec: string;
  let env: NodeJS.ProcessEnv;
  let server: ServeHandle;
  let api: string;

  beforeAll(async () => {
    writeFileSync(keyFile, key.privatePem);
    const opened = await openTestStores(kind, tmp.dir, s3Env);
    ({ store, spec } = opened);
    env = { ...process.env, ...opened.env };
    server = await startApiServe(tmp.dir, spec, opened.env, key.privatePem);
    api = `${server.url}/api/repos/acme`;
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  const cliPublish = (name: string, version: string) => {
    const file = path.join(tmp.dir, `${name}-${version}.tar`);
    writeFileSync(file, simpleTarball(name, version));
    return runCli(["hex", "publish", "--repo", "acme", "--store", spec, "--private-key", keyFile, "--tarball", file], env).then((r) => {
      expect(r.code, r.stderr).toBe(0);
    });
  };
  const apiPublish = (name: string, version: string) =>
    hexRequest(`${api}/packages/${name}/releases?replace=false`, { method: "POST", body: simpleTarball(name, version), expectContinue: true }).then((r) => {
      expect(r.status, `${name} ${version}: ${JSON.stringify(r.term)}`).toBe(201);
    });
  const cliRetire = (version: string) =>
    runCli(["hex", "retire", "--repo", "acme", "--store", spec, "--private-key", keyFile, "shared", version, "--reason", "security", "--message", `cli ${version}`], env).then((r) => {
      expect(r.code, r.stderr).toBe(0);
    });
  const apiRetire = (version: string) =>
    hexRequest(`${api}/packages/shared/releases/${version}/retire`, { method: "POST", body: encodeEtf({ message: `api ${version}`, reason: "deprecated" }), contentType: "application/vnd.hex+erlang" }).then((r) => {
      expect(r.status, JSON.stringify(r.term)).toBe(204);
    });

  it("publishes and retires from both doors all end up in packages, versions and names", async () => {
    for (const v of ["0.0.0", "0.1.0", "0.2.0", "0.3.0"]) await cliPublish("shared", v);

    const jobs: Array<Promise<void>> = [];
    for (let i = 0; i < 8; i++) jobs.push(apiPublish(`api_pkg_${i}`, "1.0.0"));
    for (let i = 0; i < 6; i++) jobs.push(cliPublish(`cli_pkg_${i}`, "1.0.0"));
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) jobs.push(apiPublish("shared", v));
    for (const v of ["2.0.0", "2.1.0"]) jobs.push(cliPublish("shared", v));
    jobs.push(cliRetire("0.0.0"), cliRetire("0.1.0"), apiRetire("0.2.0"), apiRetire("0.3.0"));
    await Promise.all(jobs);

    const sharedVersions = ["0.0.0", "0.1.0", "0.2.0", "0.3.0", "1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"];
    const names = [...Array.from({ length: 8 }, (_, i) => `api_pkg_${i}`), ...Array.from({ length: 6 }, (_, i) => `cli_pkg_${i}`), "shared"].sort();
    const versions = openVersions(await readObject(store, "repos/acme/versions"), publicKey, "acme", "versions");
    expect(versions.packages.map((p) => p.name)).toEqual(names);
    const shared = versions.packages.find((p) => p.name === "shared")!;
    expect(shared.versions).toEqual(sharedVersions);
    expect(shared.retired).toEqual([0, 1, 2, 3]);
    expect(openNames(await readObject(store, "repos/acme/names"), publicKey, "acme", "names").packages.map((p) => p.name)).toEqual(names);
    const pkg = openPackage(await readObject(store, "repos/acme/packages/shared"), publicKey, "acme", "shared", "packages/shared");
    expect(pkg.releases.map((r) => r.version)).toEqual(sharedVersions);
    expect(pkg.releases.slice(0, 4).map((r) => r.retired)).toEqual([
      { reason: "security", message: "cli 0.0.0" },
      { reason: "security", message: "cli 0.1.0" },
      { reason: "deprecated", message: "api 0.2.0" },
      { reason: "deprecated", message: "api 0.3.0" },
    ]);
    // And the API reads the same state back.
    const info = await hexRequest(`${api}/packages/shared`);
    expect(((info.term as EtfMap).releases as EtfMap[]).map((r) => r.version)).toEqual([...sharedVersions].reverse());
    expect(Object.keys((info.term as EtfMap).retirements as EtfMap).sort()).toEqual(["0.0.0", "0.1.0", "0.2.0", "0.3.0"]);
  }, 240_000);
});
