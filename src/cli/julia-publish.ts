import type { Command } from "./command.js";

const command: Command = {
  path: ["julia", "publish"],
  summary: "not built yet",
  help: "not built yet\n",
  async run() {
    throw new Error("not built yet");
  },
};
export default command;
