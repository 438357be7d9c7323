import type { Command } from "./command.js";

// Placeholder until this command is built; keeps the CLI's command table complete.
const command: Command = {
  path: ["reconcile"],
  summary: "not built yet",
  help: "pkgpub reconcile: not built yet\n",
  async run() {
    throw new Error("not built yet");
  },
};
export default command;
