/**
 * Refuses a repository spec (URL, scp-like address or path) that git could read as an option:
 * `-u…` in a Package.toml `repo` would reach `git clone` as `--upload-pack`-style injection.
 * Every git call also puts `--` before such arguments; this check gives the clear error.
 */
import { redactSecrets } from "./redact.js";

export function refuseOptionLike(spec: string, what: string): void {
  if (spec.trimStart().startsWith("-")) {
    throw new Error(`${what} ${JSON.stringify(redactSecrets(spec))} begins with "-": not a repository (git would read it as an option)`);
  }
}
