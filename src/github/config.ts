// What a repository is, from its .github/pkgpub.yml (or the org's .github repository).
// Secrets never come from here: the signing key and store credentials are the App's environment.

import { z } from "zod";
import { BUILD_TOOLS } from "../hex/plan-source.js";

const gitUrl = z.string().min(1).refine((s) => /^(https?|file|ssh):\/\//.test(s) || /^[^/\s]+@[^/\s]+:/.test(s), "must be a git URL");

const common = {
  /** A store the App's environment allows (PKGPUB_STORE or one of PKGPUB_STORES); default PKGPUB_STORE. */
  store: z.string().min(1).optional(),
};

export const repoConfigSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("julia-registry"),
    ...common,
    /** The branch whose pushes are published (default: the repository's default branch). */
    branch: z.string().min(1).optional(),
  }).strict(),
  z.object({
    kind: z.literal("julia-package"),
    ...common,
    /** The registry repository tags are registered in. */
    registry: gitUrl,
    /** The package's directory in the repository (tags are then <Name>-v1.2.3). */
    subdir: z.string().min(1).optional(),
    /** Several packages in one repository: name → directory; a tag <Name>-v1.2.3 picks one. */
    subdirs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a package name"), z.string().min(1)).optional(),
    /** push: commit to the registry's branch and publish; pull-request: push a branch and open a PR. */
    register: z.enum(["push", "pull-request"]).default("push"),
  }).strict(),
  z.object({
    kind: z.literal("hex-package"),
    ...common,
    /** The Hex repository name (repos/<name>/ in the store). */
    hex_repo: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, _ and -"),
    /** mix or rebar3, for a repository with both a mix.exs and a rebar3 project (default: mix, or the one that can be read). */
    build_tool: z.enum(BUILD_TOOLS).optional(),
  }).strict(),
]);

export type RepoConfig = z.infer<typeof repoConfigSchema>;

/** Which directory a Julia package tag is for: `subdir`, or the `subdirs` entry its <Name>- prefix names. */
export function subdirForTag(config: { subdir?: string; subdirs?: Record<string, string> }, tag: string): { subdir?: string } | { skip: string } {
  if (!config.subdirs) return { subdir: config.subdir };
  const name = /^([A-Za-z_][A-Za-z0-9_]*)-v\d/.exec(tag)?.[1];
  const subdir = name === undefined ? undefined : config.subdirs[name];
  if (subdir === undefined) return { skip: `tag ${tag} names none of the packages in subdirs (${Object.keys(config.subdirs).join(", ")})` };
  return { subdir };
}

/** Validates a parsed config file; the error names the file and each field at fault. */
export function parseRepoConfig(value: unknown, source: string): RepoConfig {
  const result = repoConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
  throw new Error(`${source}: ${problems.join("; ")}`);
}

/** JSON Schema of .github/pkgpub.yml, for editors (committed as src/github/pkgpub.schema.json). */
export function repoConfigJsonSchema(): object {
  return { $id: "https://pkgpub.invalid/pkgpub.schema.json", title: ".github/pkgpub.yml", ...z.toJSONSchema(repoConfigSchema, { io: "input" }) };
}
