import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { buildHexTarball, readHexTarball } from "../../src/hex/tarball.js";
import { releaseOf, signNames, signPackage, signVersions } from "../../src/hex/registry.js";
import { spkiPem } from "../../src/hex/signing.js";
import type { HexMetadata } from "../../src/hex/metadata.js";
import type { FakeUpstream } from "./fake-upstream.js";

export interface HexPackageFixture {
  name: string;
  version: string;
  tarball: Buffer;
}

export interface SignedRepoFixture {
  repository: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  packages: HexPackageFixture[];
  /** Path (below the repo base) → bytes, as repo.hex.pm would serve them. */
  files: Map<string, Buffer>;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** A tiny rebar3 library: builds with `rebar3 compile`, `<name>:hello()` returns its name. */
function erlangLibrary(name: string, version: string, deps: Array<{ name: string; requirement: string }>): HexPackageFixture {
  const meta: HexMetadata = {
    name,
    version,
    app: name,
    description: `test package ${name}`,
    licenses: ["MIT"],
    links: [],
    buildTools: ["rebar3"],
    requirements: deps.map((d) => ({ name: d.name, app: d.name, requirement: d.requirement, optional: false, repository: "hexpm" })),
    files: [`src/${name}.app.src`, `src/${name}.erl`],
  };
  const apps = ["kernel", "stdlib", ...deps.map((d) => d.name)].join(", ");
  const { bytes } = buildHexTarball(meta, [
    { path: `src/${name}.app.src`, data: enc(`{application, ${name}, [{description, "test"}, {vsn, "${version}"}, {applications, [${apps}]}, {registered, []}, {env, []}]}.\n`) },
    { path: `src/${name}.erl`, data: enc(`-module(${name}).\n-export([hello/0]).\nhello() -> ${name}.\n`) },
  ]);
  return { name, version, tarball: Buffer.from(bytes) };
}

/** A signed "hexpm"-like repository of two packages, beta depending on alpha. */
export function signedRepo(repository = "hexpm"): SignedRepoFixture {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const alpha = erlangLibrary("alpha", "1.0.0", []);
  const beta = erlangLibrary("beta", "0.1.0", [{ name: "alpha", requirement: "~> 1.0" }]);
  const packages = [alpha, beta];
  const files = new Map<string, Buffer>();
  for (const p of packages) {
    files.set(`/tarballs/${p.name}-${p.version}.tar`, p.tarball);
  }
  const releases = packages.map((p) => ({ p, release: releaseOf(readHexTarball(p.tarball), repository) }));
  for (const { p, release } of releases) {
    files.set(`/packages/${p.name}`, Buffer.from(signPackage({ name: p.name, repository, releases: [release] }, privateKey)));
  }
  files.set(
    "/versions",
    Buffer.from(signVersions({ repository, packages: packages.map((p) => ({ name: p.name, versions: [p.version], retired: [] })) }, privateKey)),
  );
  files.set("/names", Buffer.from(signNames({ repository, packages: packages.map((p) => ({ name: p.name })) }, privateKey)));
  const publicKeyPem = spkiPem(publicKey);
  files.set("/public_key", Buffer.from(publicKeyPem));
  return { repository, privateKey, publicKeyPem, packages, files };
}

/** Serves the repository's files from a fake upstream under a base path ("" for the root). */
export function serveRepo(upstream: FakeUpstream, repo: SignedRepoFixture, base = ""): void {
  for (const [p, bytes] of repo.files) {
    upstream.bytes(`${base}${p}`, bytes, { ETag: `"${p.length}-${bytes.length}-${bytes[bytes.length - 1]}"` });
  }
}
