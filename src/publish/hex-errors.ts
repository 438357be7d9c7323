/**
 * The refusals of a Hex publish, retire, revert or docs upload that a caller may want to tell
 * apart (the HTTP API turns them into 404 and 422; the CLI prints the message either way).
 */

/** The package or release (or its docs) is not in the repository. */
export class HexNotFoundError extends Error {
  override name = "HexNotFoundError";
}

/** The release is already published with other bytes and replacing was not asked for. */
export class ReleaseExistsError extends Error {
  override name = "ReleaseExistsError";
  constructor(message: string, readonly existingChecksum: string) {
    super(message);
  }
}

/** A request that contradicts the tarball or the repository's rules; `field` names the part. */
export class HexInvalidError extends Error {
  override name = "HexInvalidError";
  constructor(message: string, readonly field: string) {
    super(message);
  }
}
