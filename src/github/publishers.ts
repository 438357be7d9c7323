// The publish functions the front doors call, behind one interface so the App and the Action run
// the same code (and so a deployment can swap one, e.g. to run publishing out of process).

import type { JuliaPublishOptions, JuliaPublishReport } from "../publish/julia-publish.js";
import type { RegisterOptions, RegisterResult } from "../publish/registration.js";
import type { BuildTool } from "../hex/plan-source.js";
import type { Store } from "../store/store.js";

export interface HexSourcePublish {
  store: Store;
  /** Hex repository name. */
  repo: string;
  /** git URL or path of the package repository. */
  source: string;
  /** The tag to publish. */
  ref: string;
  /** mix or rebar3 when the repository has both (default: mix, or the one that can be read). */
  buildTool?: BuildTool;
  /** PEM private key that signs the repository. */
  privateKeyPem: string;
  gitEnv?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface HexTarballPublish {
  store: Store;
  repo: string;
  /** A tarball made by `mix hex.build` / `rebar3 hex build`. */
  tarball: string;
  privateKeyPem: string;
  log?: (line: string) => void;
}

export interface HexPublishOutcome {
  name: string;
  version: string;
  tarballKey: string;
  /** "unchanged" when the release was already published with these bytes. */
  tarball: "created" | "unchanged" | "replaced";
}

export interface Publishers {
  julia(options: JuliaPublishOptions): Promise<JuliaPublishReport>;
  register(options: RegisterOptions): Promise<RegisterResult>;
  hexSource(options: HexSourcePublish): Promise<HexPublishOutcome>;
  hexTarball(options: HexTarballPublish): Promise<HexPublishOutcome>;
}
