// The real publish functions. Imported statically so the Action bundle carries them.

import { publishJuliaRegistry } from "../publish/julia-publish.js";
import { registerPackage } from "../publish/registration.js";
import type { Publishers } from "./publishers.js";

export const defaultPublishers: Publishers = {
  julia: publishJuliaRegistry,
  register: registerPackage,
  async hexSource() {
    throw new Error("Hex publishing from a tag is not wired yet");
  },
  async hexTarball() {
    throw new Error("Hex publishing of a tarball is not wired yet");
  },
};
