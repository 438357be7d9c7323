import {
  ConditionalWriteUnsupportedError,
  PreconditionFailedError,
  type PutOptions,
  type PutSource,
  type Store,
} from "./store.js";

export type PutOnceOutcome = "created" | "exists";

/**
 * Writes an immutable (content-addressed) object unless the key is already there. Stores
 * without conditional writes get a check-then-write, which is safe here: every writer of a
 * content-addressed key writes a tree with the same hash.
 */
export async function putOnce(
  store: Store,
  key: string,
  source: PutSource,
  options: Omit<PutOptions, "ifNoneMatch" | "ifMatch"> = {},
): Promise<PutOnceOutcome> {
  if (await store.head(key)) return "exists";
  try {
    await store.put(key, source, { ...options, ifNoneMatch: "*" });
    return "created";
  } catch (err) {
    if (err instanceof PreconditionFailedError) return "exists";
    if (err instanceof ConditionalWriteUnsupportedError) {
      await store.put(key, source, options);
      return "created";
    }
    throw err;
  }
}
