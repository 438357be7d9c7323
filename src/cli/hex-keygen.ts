import type { Command } from "./command.js";

// Placeholder until this command is built; keeps the CLI's command table complete.
const command: Command = {
  path: ["hex-keygen"],
  summary: "not built yet",
  help: "pkgpub hex-keygen: not built yet\n",
  async run() {
    throw new Error("not built yet");
  },
};
export default command;
