import type { Command } from "./command.js";

// Placeholder until retire/unretire are built.
const stub = (name: string): Command => ({
  path: ["hex", name],
  summary: "not built yet",
  help: `pkgpub hex ${name}: not built yet\n`,
  async run() {
    throw new Error("not built yet");
  },
});
export const retire = stub("retire");
export const unretire = stub("unretire");
