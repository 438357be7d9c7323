import { fileURLToPath } from "node:url";
import { FsStore } from "./fs-store.js";
import type { Store } from "./store.js";

export const DEFAULT_STORE = "./data";

const ACCEPTED = "a directory path, file:///absolute/path or s3://bucket[/prefix]";

/**
 * Refuses what is almost surely a mistyped URL rather than a directory someone wants: a scheme
 * of two or more letters followed by ":" ("s3:/bucket", "file:data", "gs://b"), or "s3//bucket".
 * Taken as a path, each would publish into a folder named "s3:" and exit 0. One letter and a
 * colon stays a path (a Windows drive).
 */
function refuseMistypedUrl(value: string): void {
  const shown = value.includes("@") ? "(a URL with credentials in it)" : JSON.stringify(value);
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(value)?.[1];
  if (scheme !== undefined) {
    const lower = scheme.toLowerCase();
    const hint =
      lower === "s3" ? ` (did you mean s3://${value.slice(scheme.length + 1).replace(/^\/+/, "")}?)`
      : lower === "file" ? " (did you mean file:///absolute/path?)"
      : "";
    throw new Error(`store ${shown}: unsupported store${hint}; use ${ACCEPTED}`);
  }
  if (/^(s3|file)\/\//i.test(value)) {
    throw new Error(`store ${shown}: looks like a URL missing its ":"; use ${ACCEPTED} (write ./${value} for a directory of that name)`);
  }
}

/**
 * Opens the store a `--store` value or PKGPUB_STORE names: "s3://bucket[/prefix]", "file://…",
 * or a plain directory path. S3 is configured by the standard AWS environment.
 */
export async function openStore(spec?: string, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const value = spec ?? env.PKGPUB_STORE ?? DEFAULT_STORE;
  if (value === "") throw new Error(`store: empty; use ${ACCEPTED}`);
  if (value.startsWith("s3://")) {
    const { S3Store } = await import("./s3-store.js");
    return S3Store.fromUrl(value, env);
  }
  if (value.startsWith("file://")) {
    try {
      return new FsStore(fileURLToPath(value));
    } catch (err) {
      throw new Error(`store ${JSON.stringify(value)}: ${(err as Error).message}; use ${ACCEPTED}`);
    }
  }
  refuseMistypedUrl(value);
  return new FsStore(value);
}
