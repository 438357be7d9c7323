import path from "node:path";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";
import { freshS3Url } from "./s3.js";

export type StoreKind = "directory" | "s3";

/**
 * A fresh empty store of either kind, with the `--store` value and the environment a CLI run
 * needs to reach it (the S3 test server's AWS_* variables).
 */
export async function openTestStores(
  kind: StoreKind,
  tmpDir: string,
  s3Env: Record<string, string>,
): Promise<{ store: Store; spec: string; env: Record<string, string> }> {
  if (kind === "directory") {
    const spec = path.join(tmpDir, "store");
    return { store: await openStore(spec, {}), spec, env: {} };
  }
  const spec = await freshS3Url(s3Env, path.basename(tmpDir));
  return { store: await openStore(spec, { ...process.env, ...s3Env }), spec, env: s3Env };
}
