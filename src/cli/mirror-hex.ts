import type { Command } from "./command.js";
const command: Command = { path: ["mirror", "hex"], summary: "", help: "", run: async () => 2 };
export default command;
