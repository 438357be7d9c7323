// The Action's inputs (INPUT_* as the runner sets them), validated at the edge.

import { z } from "zod";
import { BUILD_TOOLS } from "../hex/plan-source.js";

const kinds = ["julia-registry", "julia-package", "hex-package"] as const;

export const actionInputsSchema = z.object({
  mode: z.enum(["event", "reconcile", "mirror"]).default("event"),
  store: z.string().min(1, "the store input is required (a directory, file://… or s3://bucket[/prefix])"),
  kind: z.enum(kinds).optional(),
  registry: z.string().min(1).optional(),
  subdir: z.string().min(1).optional(),
  "hex-repo": z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "lowercase letters, digits, _ and -").optional(),
  "hex-key": z.string().min(1).optional(),
  tarball: z.string().min(1).optional(),
  "build-tool": z.enum(BUILD_TOOLS).optional(),
  token: z.string().min(1).optional(),
  "server-url": z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  // mode: mirror
  manifest: z.string().min(1).optional(),
  lock: z.string().min(1).optional(),
  upstream: z.string().regex(/^https?:\/\/[^/]/, "an http(s) URL").optional(),
  "hex-upstream": z.string().regex(/^https?:\/\/[^/]/, "an http(s) URL").optional(),
  "public-key": z.string().min(1).optional(),
  platform: z.string().min(1).optional(),
});

export type ActionInputs = z.infer<typeof actionInputsSchema>;

/** Reads INPUT_<NAME> the way @actions/core does (name upper-cased, spaces to underscores). */
export function readActionInputs(env: NodeJS.ProcessEnv): ActionInputs {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(actionInputsSchema.shape)) {
    const value = env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`]?.trim();
    if (value) raw[name] = value;
  }
  const result = actionInputsSchema.safeParse(raw);
  if (!result.success) throw new Error(`inputs: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return result.data;
}
