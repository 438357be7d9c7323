import { planMixPackage } from "./mix-source.js";
import { planRebarPackage } from "./rebar-source.js";
import { SourceError, type PackagePlan, type SourceTree } from "./source.js";

/**
 * Which build tool's reader plans a package from a tagged tree. A repository can hold both a
 * mix.exs and a rebar3 project (Erlang libraries often ship a helper mix.exs so Mix projects can
 * depend on them from git): the caller may choose; otherwise mix is tried first, and when one of
 * the two cannot be read statically the other is used, with a note saying so.
 */

export const BUILD_TOOLS = ["mix", "rebar3"] as const;
export type BuildTool = (typeof BUILD_TOOLS)[number];

const hasMix = (tree: SourceTree) => tree.paths.includes("mix.exs");
const hasRebar = (tree: SourceTree) => tree.paths.some((p) => /^src\/[^/]+\.app\.src$/.test(p));

const plan = (tool: BuildTool, tree: SourceTree, tag: string) => (tool === "mix" ? planMixPackage(tree, tag) : planRebarPackage(tree, tag));
const FILE: Record<BuildTool, string> = { mix: "mix.exs", rebar3: "src/<app>.app.src" };

export async function planPackage(tree: SourceTree, tag: string, buildTool?: BuildTool): Promise<PackagePlan> {
  const available = BUILD_TOOLS.filter((t) => (t === "mix" ? hasMix(tree) : hasRebar(tree)));
  if (buildTool !== undefined) {
    if (!available.includes(buildTool)) throw new SourceError(`build tool ${buildTool} was chosen, but there is no ${FILE[buildTool]}${available.length > 0 ? ` (there is a ${FILE[available[0]!]}: choose ${available[0]})` : ""}`);
    return plan(buildTool, tree, tag);
  }
  if (available.length === 0) throw new SourceError("neither mix.exs nor src/<app>.app.src: not a Mix or rebar3 project");
  if (available.length === 1) return plan(available[0]!, tree, tag);
  let first: SourceError;
  try {
    const p = await plan("mix", tree, tag);
    return { ...p, notes: [...(p.notes ?? []), "both mix.exs and a rebar3 project: built with mix (choose with --build-tool / build-tool / build_tool)"] };
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    first = err;
  }
  try {
    const p = await plan("rebar3", tree, tag);
    return { ...p, notes: [`mix.exs cannot be used (${first.message}); built with rebar3 from the rebar3 project instead (choose with --build-tool)`, ...(p.notes ?? [])] };
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    throw new SourceError(`neither build tool can be read statically. mix: ${first.message}. rebar3: ${err.message}`);
  }
}
