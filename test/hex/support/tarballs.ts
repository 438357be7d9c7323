import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { writeTar } from "../../../src/hex/tar.js";
import { buildHexTarball } from "../../../src/hex/tarball.js";
import type { HexMetadata } from "../../../src/hex/metadata.js";

/** A format-3 tarball from raw metadata.config text, with correct checksums unless told otherwise. */
export function rawTarball(metadataText: string, options: { extraEntry?: boolean; badChecksum?: boolean } = {}): Uint8Array {
  const enc = new TextEncoder();
  const version = enc.encode("3");
  const meta = enc.encode(metadataText);
  const contents = gzipSync(writeTar([{ path: "src/x.erl", type: "file", mode: 0o644, data: enc.encode("-module(x).\n") }]));
  let checksum = createHash("sha256").update(version).update(meta).update(contents).digest("hex").toUpperCase();
  if (options.badChecksum) checksum = `${checksum.slice(0, -1)}${checksum.endsWith("0") ? "1" : "0"}`;
  return writeTar([
    { path: "VERSION", type: "file", mode: 0o644, data: version },
    { path: "CHECKSUM", type: "file", mode: 0o644, data: enc.encode(checksum) },
    { path: "metadata.config", type: "file", mode: 0o644, data: meta },
    { path: "contents.tar.gz", type: "file", mode: 0o644, data: contents },
    ...(options.extraEntry ? [{ path: "README", type: "file" as const, mode: 0o644, data: enc.encode("hi") }] : []),
  ]);
}

export function metadataText(name: string, version: string): string {
  return `{<<"app">>,<<"${name}">>}.\n{<<"build_tools">>,[<<"rebar3">>]}.\n{<<"description">>,<<"d">>}.\n{<<"files">>,[<<"src/x.erl">>]}.\n{<<"licenses">>,[]}.\n{<<"name">>,<<"${name}">>}.\n{<<"requirements">>,[]}.\n{<<"version">>,<<"${version}">>}.\n`;
}

/** A valid tarball for name-version (one Erlang module), as `rebar3 hex build` would make. */
export function simpleTarball(name: string, version: string, requirements: HexMetadata["requirements"] = []): Uint8Array {
  return buildHexTarball(
    { name, version, app: name, description: `${name} package`, licenses: ["MIT"], links: [], buildTools: ["rebar3"], requirements, files: [`src/${name}.erl`, `src/${name}.app.src`] },
    [
      { path: `src/${name}.erl`, data: new TextEncoder().encode(`-module(${name}).\n-export([v/0]).\nv() -> "${version}".\n`) },
      { path: `src/${name}.app.src`, data: new TextEncoder().encode(`{application,${name},[{vsn,"${version}"},{applications,[kernel,stdlib]}]}.\n`) },
    ],
  ).bytes;
}
