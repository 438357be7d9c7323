// Entry of the bundled Action (dist/index.js): nothing but wiring; see action-run.ts.

import { loadTargets } from "./reconcile-targets.js";
import { readActionInputs } from "./action-inputs.js";
import { runAction } from "./action-run.js";
import { defaultPublishers } from "./default-publishers.js";

const log = (line: string) => process.stdout.write(`${line}\n`);
log("pkgpub action starting");
let code = 1;
try {
  code = await runAction({ inputs: readActionInputs(process.env), env: process.env, publishers: defaultPublishers, log, loadTargets });
} catch (err) {
  log(`::error::${err instanceof Error ? err.message : String(err)}`);
}
process.exitCode = code;
