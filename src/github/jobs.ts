// From a push (App webhook or Action event) and the repository's config to the work to do: pure.

import type { BuildTool } from "../hex/plan-source.js";
import { subdirForTag, type RepoConfig } from "./config.js";

export interface PushInfo {
  ref: string;
  /** The pushed ref's new object: a commit, or for an annotated tag the tag object. */
  after: string;
  /** The commit the push points at (head_commit.id); what a check run is attached to. */
  commit: string;
  deleted: boolean;
  /** Clone URL of the pushed repository (https, without credentials). */
  cloneUrl: string;
  defaultBranch: string;
  fullName: string;
}

interface JobBase {
  /** The App's store spec to publish into (checked against the allowed stores by the runner). */
  store?: string;
  /** The commit the outcome is reported on. */
  checkSha: string;
  repository: string;
}

export type Job =
  | (JobBase & { kind: "julia-registry"; registry: string; branch: string; commit: string })
  | (JobBase & { kind: "julia-package"; package: string; tag: string; subdir?: string; registry: string; mode: "push" | "pull-request" })
  | (JobBase & { kind: "hex-package"; source: string; tag: string; hexRepo: string; buildTool?: BuildTool });

export type Plan = { job: Job } | { skip: string };

const TAG = /^refs\/tags\/(.+)$/;
const BRANCH = /^refs\/heads\/(.+)$/;

export function planPush(push: PushInfo, config: RepoConfig): Plan {
  if (push.deleted || /^0+$/.test(push.after)) return { skip: `${push.ref} was deleted` };
  const base = { store: config.store, checkSha: push.commit, repository: push.fullName };
  const tag = TAG.exec(push.ref)?.[1];
  const branch = BRANCH.exec(push.ref)?.[1];
  switch (config.kind) {
    case "julia-registry": {
      const wanted = config.branch ?? push.defaultBranch;
      if (branch !== wanted) return { skip: `${push.ref} is not the registry's branch ${wanted}` };
      return { job: { ...base, kind: "julia-registry", registry: push.cloneUrl, branch, commit: push.commit } };
    }
    case "julia-package":
      if (!tag) return { skip: `${push.ref} is not a tag` };
      const picked = subdirForTag(config, tag);
      if ("skip" in picked) return picked;
      return { job: { ...base, kind: "julia-package", package: push.cloneUrl, tag, subdir: picked.subdir, registry: config.registry, mode: config.register } };
    case "hex-package":
      if (!tag) return { skip: `${push.ref} is not a tag` };
      if (!/^v?\d+\.\d+\.\d+/.test(tag)) return { skip: `${tag} is not a version tag` };
      return { job: { ...base, kind: "hex-package", source: push.cloneUrl, tag, hexRepo: config.hex_repo, ...(config.build_tool ? { buildTool: config.build_tool } : {}) } };
  }
}

/** Work on one registry, or one Hex repository, in one store runs one job at a time. */
export function queueKey(job: Job): string {
  const store = job.store ?? "";
  switch (job.kind) {
    case "julia-registry":
      return `julia:${store}:${normalizeUrl(job.registry)}`;
    case "julia-package":
      return `julia:${store}:${normalizeUrl(job.registry)}`;
    case "hex-package":
      return `hex:${store}:${job.hexRepo}`;
  }
}

export function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, "").replace(/\.git$/, "").toLowerCase();
}

/** owner/name from a GitHub-style repository URL (https://host/owner/name(.git)). */
export function ownerRepo(url: string): { owner: string; repo: string } | null {
  const m = /[:/]([^/:]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  return m ? { owner: m[1]!, repo: m[2]! } : null;
}
