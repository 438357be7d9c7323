import { randomBytes } from "node:crypto";
import { ensureBucket, S3Store, type S3StoreTuning } from "../../src/store/s3-store.js";

/**
 * A new, empty bucket on the S3 test server (env from `inject("s3Env")`), so that test files
 * never see each other's objects. Returns its "s3://…" URL.
 */
export async function freshS3Url(env: Record<string, string>, label: string): Promise<string> {
  const clean = label.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "t";
  const url = `s3://pkgpub-${clean}-${randomBytes(4).toString("hex")}`;
  await ensureBucket(url, env);
  return url;
}

/** An S3Store on a new bucket of the S3 test server. */
export async function freshS3Store(env: Record<string, string>, label: string, tuning: S3StoreTuning = {}): Promise<S3Store> {
  return S3Store.fromUrl(await freshS3Url(env, label), env, tuning);
}
