// The reconcile target list (`[[registry]]`, `[[julia_package]]`, `[[hex_package]]`) read from a
// TOML file: shared by the CLI's `reconcile` and the Action's `config` input, so neither door
// reaches into the other.
import { readFile } from "node:fs/promises";
import { parseTomlFile } from "../julia/registration/registry-files.js";
import { reconcileTargetsSchema, type ReconcileTargets } from "./reconcile.js";

export async function loadTargets(file: string): Promise<ReconcileTargets> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`--config ${file}: cannot read the file`);
  }
  const result = reconcileTargetsSchema.safeParse(parseTomlFile(text, file));
  if (!result.success) throw new Error(`${file}: ${result.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")}`);
  return result.data;
}
