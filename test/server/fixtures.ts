import { randomBytes } from "node:crypto";
import type { Store } from "../../src/store/store.js";

export const REG_UUID = "23338594-aafe-5451-b93e-139f81909106";
export const REG_HASH = "a".repeat(40);
export const PKG_UUID = "7876af07-990d-54b4-ab0e-23690620f79a";
export const PKG_HASH = "0123456789abcdef0123456789abcdef01234567";
export const ART_HASH = "fedcba9876543210fedcba9876543210fedcba98";

export interface StoredFixture {
  path: string;
  key: string;
  bytes: Buffer;
  contentType: string;
  immutable: boolean;
}

/** One object per route, with distinct random bytes so a wrong route can't pass by accident. */
export function storeFixtures(): StoredFixture[] {
  const gz = (n: number) => Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(n)]);
  const registries = Buffer.from(`/registry/${REG_UUID}/${REG_HASH}\n`);
  const f = (path: string, bytes: Buffer, contentType: string, immutable: boolean): StoredFixture => ({
    path,
    key: path.slice(1),
    bytes,
    contentType,
    immutable,
  });
  return [
    f("/registries", registries, "text/plain", false),
    f(`/registry/${REG_UUID}/${REG_HASH}`, gz(5000), "application/x-gzip", true),
    f(`/package/${PKG_UUID}/${PKG_HASH}`, gz(70_000), "application/x-gzip", true),
    f(`/artifact/${ART_HASH}`, gz(300_000), "application/x-gzip", true),
    f("/repos/acme/names", gz(100), "application/octet-stream", false),
    f("/repos/acme/versions", gz(120), "application/octet-stream", false),
    f("/repos/acme/packages/foo_bar", gz(300), "application/octet-stream", false),
    f("/repos/acme/tarballs/foo_bar-1.0.0.tar", randomBytes(4000), "application/octet-stream", false),
    f("/repos/acme/tarballs/foo_bar-1.1.0-rc.1+build.3.tar", randomBytes(4100), "application/octet-stream", false),
    f("/repos/acme/public_key", Buffer.from("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"), "application/x-pem-file", false),
  ];
}

export async function putFixtures(store: Store, fixtures: StoredFixture[]): Promise<void> {
  for (const fx of fixtures) await store.put(fx.key, fx.bytes);
}
