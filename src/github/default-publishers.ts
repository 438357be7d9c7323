// The real publish functions. Imported statically so the Action bundle carries them.

import { parsePrivateKey } from "../hex/signing.js";
import { publishHex } from "../publish/hex-publish.js";
import { publishJuliaRegistry } from "../publish/julia-publish.js";
import { registerPackage } from "../publish/registration.js";
import type { Publishers } from "./publishers.js";

export const defaultPublishers: Publishers = {
  julia: publishJuliaRegistry,
  register: registerPackage,
  async hexSource(o) {
    const privateKey = parsePrivateKey(o.privateKeyPem, "the Hex signing key (PKGPUB_HEX_KEY)");
    const r = await publishHex({ store: o.store, repo: o.repo, privateKey, input: { source: o.source, ref: o.ref, ...(o.buildTool ? { buildTool: o.buildTool } : {}) }, env: o.gitEnv, log: o.log });
    return { name: r.name, version: r.version, tarballKey: r.tarballKey, tarball: r.tarball };
  },
  async hexTarball(o) {
    const privateKey = parsePrivateKey(o.privateKeyPem, "the Hex signing key (PKGPUB_HEX_KEY)");
    const r = await publishHex({ store: o.store, repo: o.repo, privateKey, input: { tarball: o.tarball }, log: o.log });
    return { name: r.name, version: r.version, tarballKey: r.tarballKey, tarball: r.tarball };
  },
};
