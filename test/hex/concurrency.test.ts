import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openNames, openPackage, openVersions } from "../../src/hex/registry.js";
import { parsePublicKey } from "../../src/hex/signing.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { newKeyPem, readObject } from "./support/fixtures.js";
import { simpleTarball } from "./support/tarballs.js";

const s3Env = inject("s3Env");

describe.each<StoreKind>(["directory", "s3"])("concurrent publishers into one repository (%s store)", (kind) => {
  const tmp = tempDir("hex-concurrency-");
  const key = newKeyPem();
  const keyFile = path.join(tmp.dir, "key.pem");
  let store: Store;
  let spec: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    writeFileSync(keyFile, key.privatePem);
    ({ store, spec, env } = await openTestStores(kind, tmp.dir, s3Env));
    env = { ...process.env, ...env };
  });
  afterAll(() => tmp.cleanup());

  it("20 packages and 5 versions of one more, published at once, all end up in packages, versions and names", async () => {
    const jobs: Array<{ name: string; version: string; file: string }> = [];
    for (let i = 0; i < 20; i++) jobs.push({ name: `pkg_${String(i).padStart(2, "0")}`, version: "1.0.0", file: "" });
    for (let v = 0; v < 5; v++) jobs.push({ name: "shared", version: `0.${v}.0`, file: "" });
    for (const job of jobs) {
      job.file = path.join(tmp.dir, `${job.name}-${job.version}.tar`);
      writeFileSync(job.file, simpleTarball(job.name, job.version));
    }
    const results = await Promise.all(jobs.map((job) => runCli(["hex", "publish", "--repo", "acme", "--store", spec, "--private-key", keyFile, "--tarball", job.file], env)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const pub = parsePublicKey(key.spkiPem, "key");
    const expectedNames = [...new Set(jobs.map((j) => j.name))].sort();
    const versions = openVersions(await readObject(store, "repos/acme/versions"), pub, "acme", "versions");
    expect(versions.packages.map((p) => p.name)).toEqual(expectedNames);
    expect(versions.packages.find((p) => p.name === "shared")!.versions).toEqual(["0.0.0", "0.1.0", "0.2.0", "0.3.0", "0.4.0"]);
    expect(openNames(await readObject(store, "repos/acme/names"), pub, "acme", "names").packages.map((p) => p.name)).toEqual(expectedNames);
    const shared = openPackage(await readObject(store, "repos/acme/packages/shared"), pub, "acme", "shared", "packages/shared");
    expect(shared.releases.map((r) => r.version)).toEqual(["0.0.0", "0.1.0", "0.2.0", "0.3.0", "0.4.0"]);
    // Without conditional writes each publisher re-checks after waiting out its competitors'
    // updates, so the wall time follows the store's latency: a loaded S3 test server needs room.
  }, 240_000);
});
