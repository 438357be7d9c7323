/**
 * The dependency lines a user pastes into mix.exs or rebar.config for a release, in the form
 * hex.pm prints them: mix gets a `~>` requirement that admits the version (patch-level below
 * 1.0, minor-level from 1.0, exact-prefix for pre-releases), rebar3 the exact version. Build
 * metadata is dropped: requirements never match on it.
 */
import { compareSemVer, parseSemVer } from "./semver.js";

export function mixRequirement(version: string): string {
  const v = parseSemVer(version);
  if (!v) return `== ${version}`;
  const pre = v.pre.length > 0 ? `-${v.pre.join(".")}` : "";
  if (pre) return `~> ${v.major}.${v.minor}.${v.patch}${pre}`;
  if (v.major === 0) return `~> 0.${v.minor}.${v.patch}`;
  return `~> ${v.major}.${v.minor}`;
}

export function rebarVersion(version: string): string {
  const v = parseSemVer(version);
  if (!v) return version;
  return `${v.major}.${v.minor}.${v.patch}${v.pre.length > 0 ? `-${v.pre.join(".")}` : ""}`;
}

/** `{:name, "~> x.y", repo: "r"}`; the repo option is left out for hexpm. */
export function mixDep(name: string, version: string, repo: string): string {
  return `{:${name}, "${mixRequirement(version)}"${repo === "hexpm" ? "" : `, repo: "${repo}"`}}`;
}

export function rebarDep(name: string, version: string): string {
  return `{${name}, "${rebarVersion(version)}"}`;
}

/** The version to suggest: the newest release that is not a pre-release, else the newest. */
export function suggestedVersion(versions: readonly string[]): string | undefined {
  const sorted = [...versions].sort(compareSemVer).reverse();
  return sorted.find((v) => (parseSemVer(v)?.pre.length ?? 1) === 0) ?? sorted[0];
}
