import { statSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fingerprint, parsePrivateKey, parsePublicKey, publicKeyOf, samePublicKey } from "../../src/hex/signing.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";

describe("pkgpub hex keygen", () => {
  const tmp = tempDir("hex-keygen-");
  afterAll(() => tmp.cleanup());

  it("writes a 0600 private key and its SPKI public key, and prints the fingerprint", async () => {
    const out = path.join(tmp.dir, "keys");
    const r = await runCli(["hex", "keygen", "--out", out]);
    expect(r.code).toBe(0);
    const privFile = path.join(out, "private_key.pem");
    const pubFile = path.join(out, "public_key.pem");
    expect(statSync(privFile).mode & 0o777).toBe(0o600);
    const priv = parsePrivateKey(readFileSync(privFile, "utf8"), "priv");
    const pubText = readFileSync(pubFile, "utf8");
    expect(pubText).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const pub = parsePublicKey(pubText, "pub");
    expect(samePublicKey(pub, publicKeyOf(priv))).toBe(true);
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(r.stdout).toContain(`fingerprint: ${fingerprint(pub)}`);
    expect(r.stdout).not.toContain("PRIVATE KEY");

    const again = await runCli(["hex", "keygen", "--out", out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${privFile} already exists; not overwriting a key`);
    expect(readFileSync(pubFile, "utf8")).toBe(pubText);
  });
});

describe("help texts", () => {
  it.each([
    [["hex", "keygen"], ["--out <dir>", "fingerprint"]],
    [["hex", "publish"], ["--source <path|git-url>", "--ref <tag>", "--tarball <file>", "--private-key", "env:VAR", "--replace", "--store"]],
    [["hex", "retire"], ["--reason <reason>", "other, invalid, security, deprecated, renamed", "--message"]],
    [["hex", "unretire"], ["<package> <version>", "--private-key"]],
  ])("pkgpub %s --help", async (words, mentions) => {
    const r = await runCli([...words, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pkgpub ${words.join(" ")}`);
    for (const m of mentions) expect(r.stdout).toContain(m);
  });

  it("publish without an input is a usage error", async () => {
    const r = await runCli(["hex", "publish", "--repo", "acme", "--private-key", "env:X"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("give exactly one of --source or --tarball");
  });
});
