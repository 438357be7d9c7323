import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { pemShapeProblem } from "../bytes/pem-shape.js";
import { decodeSigned, encodeSigned } from "./messages.js";

/**
 * Registry resources are gzip(Signed{payload, RSASSA-PKCS1-v1_5(SHA-512(payload))}). PKCS#1 v1.5
 * is deterministic, so the same payload and key always give the same bytes.
 */
export function signPayload(payload: Uint8Array, privateKey: KeyObject): Uint8Array {
  return encodeSigned({ payload, signature: sign("sha512", payload, privateKey) });
}

export function gzipSigned(payload: Uint8Array, privateKey: KeyObject): Uint8Array {
  return gzipSync(signPayload(payload, privateKey));
}

export class SignatureError extends Error {
  override name = "SignatureError";
}

/** Gunzips, checks the signature against publicKey and returns the payload. */
export function openSigned(body: Uint8Array, publicKey: KeyObject, what: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = gunzipSync(body);
  } catch {
    throw new SignatureError(`${what}: not gzip data`);
  }
  const signed = decodeSigned(raw, what);
  if (!signed.signature || signed.signature.length === 0) throw new SignatureError(`${what}: unsigned`);
  if (!verify("sha512", signed.payload, publicKey, signed.signature)) {
    throw new SignatureError(`${what}: signature does not verify with the repository's public key`);
  }
  return signed.payload;
}

export class KeyError extends Error {
  override name = "KeyError";
}

/**
 * A private key from PEM text (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"). The message
 * never quotes the text: it is a secret.
 */
export function parsePrivateKey(pem: string, source: string): KeyObject {
  if (pem.includes("ENCRYPTED")) throw new KeyError(`${source}: the private key is encrypted; give pkgpub an unencrypted key (kept in a secret store, e.g. env:VAR from a CI secret)`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    const problem = pemShapeProblem(pem);
    throw new KeyError(`${source}: not a PEM private key${problem ? `: ${problem}` : ""} (expected "BEGIN RSA PRIVATE KEY" or "BEGIN PRIVATE KEY")`);
  }
  if (key.asymmetricKeyType !== "rsa") throw new KeyError(`${source}: the key is ${key.asymmetricKeyType}, Hex clients need RSA`);
  return key;
}

/** A public key from PEM: SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY"), as Hex clients accept both. */
export function parsePublicKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch {
    const problem = pemShapeProblem(pem);
    throw new KeyError(`${source}: not a PEM public key${problem ? `: ${problem}` : ""} (expected "BEGIN PUBLIC KEY" or "BEGIN RSA PUBLIC KEY")`);
  }
  if (key.asymmetricKeyType !== "rsa") throw new KeyError(`${source}: the key is ${key.asymmetricKeyType}, Hex clients need RSA`);
  return key;
}

export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

export function spkiPem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}

export function pkcs1PublicPem(key: KeyObject): string {
  return key.export({ type: "pkcs1", format: "pem" }).toString();
}

export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: "spki", format: "der" }).equals(b.export({ type: "spki", format: "der" }));
}

/**
 * The OpenSSH SHA256 fingerprint of the key's ssh-rsa blob: what `mix hex.repo add
 * --fetch-public-key` and `ssh-keygen -lf` print.
 */
export function fingerprint(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (!jwk.n || !jwk.e) throw new KeyError("not an RSA key");
  const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), sshMpint(Buffer.from(jwk.e, "base64url")), sshMpint(Buffer.from(jwk.n, "base64url"))]);
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function sshMpint(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let b = magnitude.subarray(i);
  if (b.length > 0 && (b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}
