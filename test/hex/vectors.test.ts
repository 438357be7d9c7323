import { createHash, createPrivateKey } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeNames, decodePackage, decodeSigned, decodeVersions, encodeNames, encodePackage, encodeVersions } from "../../src/hex/messages.js";
import { formatMetadata, parseMetadata } from "../../src/hex/metadata.js";
import { openNames } from "../../src/hex/registry.js";
import { fingerprint, openSigned, parsePrivateKey, parsePublicKey, signPayload } from "../../src/hex/signing.js";
import { buildHexTarball, readHexTarball } from "../../src/hex/tarball.js";
import { vector, vectorText } from "./support/fixtures.js";

const seq = (from: number) => Uint8Array.from({ length: 32 }, (_, i) => from + i);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("protobuf messages (spec §12 cross-check vectors)", () => {
  it("encodes Package byte-identically to hex_core", () => {
    const bytes = encodePackage({
      repository: "acme",
      name: "foo",
      releases: [
        {
          version: "0.1.0",
          innerChecksum: seq(0),
          outerChecksum: seq(32),
          dependencies: [
            { package: "bar", requirement: "~> 1.0" },
            { package: "baz_pkg", requirement: ">= 0.0.0", optional: true, app: "baz", repository: "hexpm" },
          ],
          retired: { reason: "security", message: "CVE-1" },
        },
      ],
    });
    expect(hex(bytes)).toBe(
      "0a88010a05302e312e301220000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f1a0d0a0362617212067e3e20312e301a210a0762617a5f706b6712083e3d20302e302e301801220362617a2a05686578706d2209080212054356452d312a20202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f1203666f6f1a0461636d65",
    );
    expect(decodePackage(bytes).releases[0]!.retired).toEqual({ reason: "security", message: "CVE-1" });
  });

  it("encodes Versions with packed retired indexes, and Names with updated_at", () => {
    expect(hex(encodeVersions({ repository: "acme", packages: [{ name: "foo", versions: ["0.1.0", "0.2.0"], retired: [1] }] }))).toBe("0a160a03666f6f1205302e312e301205302e322e301a0101120461636d65");
    expect(hex(encodeNames({ repository: "acme", packages: [{ name: "foo", updatedAt: { seconds: 1700000000, nanos: 0 } }] }))).toBe(vector("names_payload.bin").toString("hex"));
  });

  it("decodes a Package with fields it does not know (newer servers)", () => {
    const pkg = decodePackage(vector("package_unknown_fields.bin"));
    expect(pkg.name).toBe("foo");
    expect(pkg.repository).toBe("acme");
    expect(pkg.releases.map((r) => r.version)).toEqual(["0.1.0"]);
    expect(pkg.releases[0]!.outerChecksum).toHaveLength(32);
  });

  it("decodes unpacked repeated retired indexes and skips unknown fields in Versions", () => {
    expect(decodeVersions(vector("versions_unpacked.bin"))).toEqual({ repository: "acme", packages: [{ name: "foo", versions: ["0.1.0", "0.2.0"], retired: [0, 1] }] });
  });

  it("refuses a message missing a required field", () => {
    expect(() => decodeNames(Buffer.from("0a050a03666f6f", "hex"))).toThrow(/repository/);
  });
});

describe("signatures and keys", () => {
  const payload = vector("names_payload.bin");

  it("signs like openssl and python (PKCS#1 v1.5, SHA-512), with either private key PEM form", () => {
    expect(createHash("sha512").update(payload).digest("hex")).toBe("e601f8040ea41116669e25643ac562961329b403f614db4cea396c8f320727fc0323d28849f2f4511515b947ce562e74f9157075272b4bb1217347be29b294bc");
    for (const file of ["keys/priv.pem", "keys/priv_pkcs1.pem"]) {
      const signed = signPayload(payload, parsePrivateKey(vectorText(file), file));
      expect(Buffer.from(signed).equals(vector("names_signed.bin"))).toBe(true);
      expect(Buffer.from(decodeSigned(signed).signature!).equals(vector("names_sig_openssl.bin"))).toBe(true);
    }
    expect(vector("names_sig_py.bin").equals(vector("names_sig_openssl.bin"))).toBe(true);
  });

  it("verifies names.gz with the SPKI and the PKCS#1 public key", () => {
    for (const file of ["keys/pub_spki.pem", "keys/pub_pkcs1.pem"]) {
      const names = openNames(vector("names.gz"), parsePublicKey(vectorText(file), file), "acme", "names.gz");
      expect(names.packages.map((p) => p.name)).toEqual(["foo"]);
    }
  });

  it("refuses a flipped signature byte, a flipped payload byte, another key and another repository", () => {
    const key = parsePublicKey(vectorText("keys/pub_spki.pem"), "pub");
    const signed = Buffer.from(vector("names_signed.bin"));
    const badSig = Buffer.from(signed);
    badSig[signed.length - 1]! ^= 1;
    expect(() => openSigned(gzip(badSig), key, "names")).toThrow(/signature does not verify/);
    const badPayload = Buffer.from(signed);
    badPayload[5]! ^= 1;
    expect(() => openSigned(gzip(badPayload), key, "names")).toThrow(/signature does not verify/);
    const other = parsePublicKey(execFileSync("openssl", ["rsa", "-pubout"], { input: execFileSync("openssl", ["genrsa", "2048"], { stdio: ["ignore", "pipe", "ignore"] }), stdio: ["pipe", "pipe", "ignore"] }).toString(), "other");
    expect(() => openSigned(vector("names.gz"), other, "names")).toThrow(/signature does not verify/);
    expect(() => openNames(vector("names.gz"), key, "other_repo", "names")).toThrow(/signed for repository "acme", expected "other_repo"/);
  });

  it("computes the fingerprint mix hex.repo add --fetch-public-key expects, from either PEM form", () => {
    for (const file of ["keys/pub_spki.pem", "keys/pub_pkcs1.pem"]) {
      expect(fingerprint(parsePublicKey(vectorText(file), file))).toBe("SHA256:fcSbpVDe81IeeDTQGLXb0hgZS2NMp8TTPaK5pUgvdKk");
    }
    const sshKeygen = execFileSync("bash", ["-c", `ssh-keygen -lf <(ssh-keygen -i -m PKCS8 -f ${path.join("/work/shared/specs/hex-vectors", "keys/pub_spki.pem")})`], { encoding: "utf8" });
    expect(sshKeygen).toContain("SHA256:fcSbpVDe81IeeDTQGLXb0hgZS2NMp8TTPaK5pUgvdKk");
  });

  it("names the key source, never the key text, when a key is not valid", () => {
    const text = vectorText("keys/priv.pem").replace(/[A-Z]{10}/, "!!!!!!!!!!");
    expect(() => parsePrivateKey(text, "--private-key env:HEX_KEY")).toThrow("--private-key env:HEX_KEY: not a PEM private key");
    try {
      parsePrivateKey(text, "x");
    } catch (err) {
      expect(String(err)).not.toContain(text.slice(40, 80));
    }
    expect(() => parsePrivateKey(vectorText("keys/pub_spki.pem"), "k")).toThrow(/not a PEM private key/);
    const encrypted = createPrivateKey(vectorText("keys/priv.pem")).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }).toString();
    expect(() => parsePrivateKey(encrypted, "key.pem")).toThrow("key.pem: the private key is encrypted");
  });
});

function gzip(b: Uint8Array): Buffer {
  return execFileSync("gzip", ["-c"], { input: b });
}

describe("package tarballs (edge vectors)", () => {
  it.each([
    ["edge_ok.tar"],
    ["edge_lowercase_checksum.tar"],
    ["edge_reordered.tar"],
    ["edge_inner_ustar_longpath.tar"],
    ["edge_inner_gnu_longpath.tar"],
    ["edge_inner_pax_longpath.tar"],
    ["foo-0.1.0.tar"],
  ])("accepts %s", (file) => {
    const t = readHexTarball(vector(file), file);
    expect(t.metadata.name).toBe("foo");
    expect(hex(t.outerChecksum)).toBe(createHash("sha256").update(vector(file)).digest("hex"));
    if (file.includes("longpath")) expect(t.contents.some((p) => p.length > 100 && p.endsWith(".txt"))).toBe(true);
  });

  it("matches the spec's checksums for foo-0.1.0.tar", () => {
    const t = readHexTarball(vector("foo-0.1.0.tar"));
    expect(hex(t.innerChecksum).toUpperCase()).toBe("CDE317A428347D80767E3DDB8AF397EF87CF78C4F63248D7013332610FFB8CBC");
    expect(hex(t.outerChecksum)).toBe("7a450cb58b890cfdd02714acdb4987f1e5910f1800f051c67269831e8ce49e51");
    expect(t.metadata.requirements).toEqual([{ name: "jason", app: "jason", requirement: "~> 1.4", optional: false, repository: "hexpm" }]);
  });

  it("refuses VERSION \"3\\n\" and an extra outer entry", () => {
    expect(() => readHexTarball(vector("edge_version_newline.tar"), "edge_version_newline.tar")).toThrow('edge_version_newline.tar: VERSION is "3\\n", expected exactly "3"');
    expect(() => readHexTarball(vector("edge_extra_outer_entry.tar"), "edge_extra_outer_entry.tar")).toThrow(/unexpected entry "README"/);
  });

  it("refuses a CHECKSUM that does not match and a flipped contents byte", () => {
    const badChecksum = Buffer.from(vector("edge_ok.tar"));
    const at = badChecksum.indexOf("CHECKSUM") + 512;
    badChecksum[at] = badChecksum[at] === 0x41 ? 0x42 : 0x41;
    expect(() => readHexTarball(badChecksum, "t.tar")).toThrow(/t.tar: CHECKSUM .* does not match the contents/);
    const badContents = Buffer.from(vector("edge_ok.tar"));
    const data = badContents.indexOf("contents.tar.gz") + 512 + 20;
    badContents[data]! ^= 0xff;
    expect(() => readHexTarball(badContents, "t.tar")).toThrow(/t.tar: CHECKSUM .* does not match the contents/);
  });

  it("builds tarballs that our reader, GNU tar and Erlang's file:consult/erl_tar accept", () => {
    const longPath = `priv/${"d".repeat(60)}/${"e".repeat(60)}/file.txt`;
    const meta = parseMetadata(vectorText("mix_style_metadata.config"));
    const { bytes, tarball } = buildHexTarball(meta, [
      { path: "lib/foo.ex", data: Buffer.from("defmodule Foo do end\n") },
      { path: longPath, data: Buffer.from("x") },
      { path: "bin/run", data: Buffer.from("#!/bin/sh\n"), executable: true },
    ]);
    expect(tarball.metadata).toEqual(meta);
    const dir = mkdtempSync(path.join(os.tmpdir(), "hex-tar-"));
    try {
      writeFileSync(path.join(dir, "p.tar"), bytes);
      expect(execFileSync("tar", ["tf", "p.tar"], { cwd: dir, encoding: "utf8" }).split("\n").filter(Boolean)).toEqual(["VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz"]);
      execFileSync("tar", ["xf", "p.tar"], { cwd: dir });
      const erl = execFileSync(
        "erl",
        ["-noshell", "-eval", `{ok, T} = file:consult("metadata.config"), {ok, Fs} = erl_tar:table("contents.tar.gz", [compressed]), io:format("~p~n~p~n", [proplists:get_value(<<"description">>, T), lists:sort(Fs)]), halt().`],
        { cwd: dir, encoding: "utf8" },
      );
      expect(erl).toContain("<<66,97,114,32,226,128,147");
      expect(erl).toContain(longPath);
      expect(execFileSync("tar", ["tzvf", "contents.tar.gz"], { cwd: dir, encoding: "utf8" })).toMatch(/-rwxr-xr-x 0\/0 .* bin\/run/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("metadata.config", () => {
  it("reads the map-form requirements of the minimal metadata", () => {
    const m = parseMetadata(vectorText("foo_minimal_metadata.config"));
    expect(m).toMatchObject({ name: "foo", version: "0.1.0", app: "foo", elixir: "~> 1.14", buildTools: ["mix"], licenses: ["Apache-2.0"], links: [["GitHub", "https://github.com/acme/foo"]] });
  });

  it("reads mix's list-form requirements and byte-list binaries", () => {
    const m = parseMetadata(vectorText("mix_style_metadata.config"));
    expect(m.description).toBe('Bar – café "q" \\ tab\there');
    expect(m.requirements).toEqual([{ name: "jason", app: "jason", requirement: "~> 1.4", optional: false, repository: "hexpm" }]);
  });

  it("reads /utf8 binaries with escapes", () => {
    expect(parseMetadata(vectorText("pc_unicode_metadata.config")).description).toBe('Bar – café "q" \\ tab\there nl\nx');
  });

  it("writes what it reads, escaping with octal and never \\x{…}", () => {
    const m = { ...parseMetadata(vectorText("pc_unicode_metadata.config")), description: "a\u0001b – \"c\"\\" };
    const text = formatMetadata(m);
    expect(text).not.toContain("\\x");
    expect(text).toContain('<<"a\\001b – \\"c\\"\\\\"/utf8>>');
    expect(parseMetadata(text)).toEqual(m);
  });

  it("refuses a bad name or version with the field named", () => {
    expect(() => parseMetadata(vectorText("foo_minimal_metadata.config").replace('<<"name">>,<<"foo">>', '<<"name">>,<<"Foo-Bar">>'))).toThrow('metadata.config name: package name "Foo-Bar" is not valid');
    expect(() => parseMetadata(vectorText("foo_minimal_metadata.config").replace('<<"version">>,<<"0.1.0">>', '<<"version">>,<<"1.0">>'))).toThrow('metadata.config version: version "1.0" is not a SemVer 2.0 version');
  });
});

it("gunzips names.gz to the signed message of the spec", () => {
  expect(gunzipSync(vector("names.gz")).equals(vector("names_signed.bin"))).toBe(true);
});
