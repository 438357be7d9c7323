import { fileURLToPath } from "node:url";
import { FsStore } from "./fs-store.js";
import type { Store } from "./store.js";

export const DEFAULT_STORE = "./data";

/**
 * Opens the store a `--store` value or PKGPUB_STORE names: "s3://bucket[/prefix]", "file://…",
 * or a plain directory path. S3 is configured by the standard AWS environment.
 */
export async function openStore(spec?: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const value = spec ?? env.PKGPUB_STORE ?? DEFAULT_STORE;
  if (value.startsWith("s3://")) {
    const { S3Store } = await import("./s3-store.js");
    return S3Store.fromUrl(value, env);
  }
  if (value.startsWith("file://")) return new FsStore(fileURLToPath(value));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new Error(`--store: unsupported store ${JSON.stringify(value)} (use a directory, file://… or s3://bucket[/prefix])`);
  }
  return new FsStore(value);
}
