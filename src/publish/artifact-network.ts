/**
 * Where artifact downloads of a Julia publish may go. An Artifacts.toml is written by package
 * authors, so its URLs (and their redirects) must not reach the publishing machine's network:
 * loopback, private and link-local addresses (a cloud metadata service) are refused, and a
 * redirect may only stay on its host or go to a listed one. The App and the Action run with
 * these defaults; the CLI allows local addresses unless told otherwise (local development
 * serves artifacts from localhost).
 */
import { parseHostList } from "../net/address-policy.js";

export interface ArtifactNetwork {
  /** Refuse internal addresses unless the host is in allowHosts. */
  publicOnly: boolean;
  /** Hosts reachable whatever they resolve to, and allowed as redirect targets (an internal artifact server). */
  allowHosts: string[];
  /** Other hosts a redirect may lead to (release-asset CDNs). */
  redirectHosts: string[];
}

/** Where https://github.com/<o>/<r>/releases/download/… redirects to. */
export const GITHUB_ASSET_HOSTS = ["objects.githubusercontent.com", "release-assets.githubusercontent.com", "github-releases.githubusercontent.com"];

export const PUBLIC_ONLY: ArtifactNetwork = { publicOnly: true, allowHosts: [], redirectHosts: GITHUB_ASSET_HOSTS };

/**
 * The settings from the environment: PKGPUB_ARTIFACT_ALLOW_HOSTS, PKGPUB_ARTIFACT_REDIRECT_HOSTS
 * (added to GitHub's asset hosts), PKGPUB_ARTIFACT_PUBLIC_ONLY (1 or 0; the default is the caller's).
 */
export function artifactNetworkFromEnv(env: NodeJS.ProcessEnv, publicOnlyByDefault: boolean): ArtifactNetwork {
  const flag = env.PKGPUB_ARTIFACT_PUBLIC_ONLY?.trim();
  if (flag !== undefined && flag !== "" && flag !== "0" && flag !== "1") {
    throw new Error(`PKGPUB_ARTIFACT_PUBLIC_ONLY must be 1 or 0, not ${JSON.stringify(flag)}`);
  }
  return {
    publicOnly: flag === undefined || flag === "" ? publicOnlyByDefault : flag === "1",
    allowHosts: parseHostList(env.PKGPUB_ARTIFACT_ALLOW_HOSTS),
    redirectHosts: [...GITHUB_ASSET_HOSTS, ...parseHostList(env.PKGPUB_ARTIFACT_REDIRECT_HOSTS)],
  };
}
