// One test world: a fake GitHub API, bare repositories over smart HTTP, a directory store and
// the real App on a loopback port.

import { generateKeyPairSync } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { defaultPublishers } from "../../../src/github/default-publishers.js";
import { storeResolver } from "../../../src/github/environment.js";
import type { Publishers } from "../../../src/github/publishers.js";
import { startAppServer, type AppServer } from "../../../src/github/server.js";
import { GIT_ENV, git, makeRepo, tempDir, type FileSpec } from "../../support/git-repo.js";
import { deliver, pushPayload } from "./deliver.js";
import { startFakeGitHub, type FakeGitHub } from "./fake-github.js";
import { startGitHttp, type GitHttpServer } from "./git-http.js";

export const SECRET = "test-webhook-secret";
export const OWNER = "acme";

export interface World {
  root: string;
  storeDir: string;
  github: FakeGitHub;
  gitHttp: GitHttpServer;
  app: AppServer;
  /** Clone URL of acme/<name> over smart HTTP. */
  url(name: string): string;
  /** A working repository whose origin is the served bare repository acme/<name>.git. */
  createRepo(name: string, files: Record<string, FileSpec>): string;
  /** Pushes the working repo (branch main and all tags) to its served bare repository. */
  push(name: string): void;
  /** Delivers a signed push event for acme/<name> and ref. */
  deliverPush(name: string, ref: string, options?: { id?: string }): Promise<{ status: number; body: string; id: string }>;
  close(): Promise<void>;
}

export async function startWorld(options: { publishers?: Publishers; hexKeyPem?: string } = {}): Promise<World> {
  const { dir: root, cleanup } = tempDir("pkgpub-gh-");
  const served = path.join(root, "served");
  const work = path.join(root, "work");
  const storeDir = path.join(root, "store");
  mkdirSync(served, { recursive: true });
  mkdirSync(storeDir, { recursive: true });
  const github = await startFakeGitHub();
  const gitHttp = await startGitHttp(served, (t) => github.tokens.has(t));
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  const env = { ...GIT_ENV, PKGPUB_STORE: storeDir, PKGPUB_GIT_CACHE_DIR: path.join(root, "cache") };
  const app = await startAppServer({
    appId: 1,
    privateKey,
    webhookSecret: SECRET,
    baseUrl: github.url,
    port: 0,
    logLevel: "fatal",
    noRetry: true,
    deps: { publishers: options.publishers ?? defaultPublishers, openStore: storeResolver(env), hexKeyPem: options.hexKeyPem, serverUrl: "https://pkgs.acme.test", env },
  });
  const url = (name: string) => `${gitHttp.url}/${OWNER}/${name}.git`;
  const workDir = (name: string) => path.join(work, name);
  return {
    root,
    storeDir,
    github,
    gitHttp,
    app,
    url,
    createRepo(name, files) {
      const dir = makeRepo(workDir(name), files).dir;
      git(root, "init", "-q", "--bare", "-b", "main", path.join(served, OWNER, `${name}.git`));
      git(dir, "remote", "add", "origin", path.join(served, OWNER, `${name}.git`));
      git(dir, "push", "-q", "origin", "main");
      return dir;
    },
    push(name) {
      git(workDir(name), "push", "-q", "--tags", "origin", "main");
    },
    async deliverPush(name, ref, opts = {}) {
      const bare = path.join(served, OWNER, `${name}.git`);
      const after = git(bare, "rev-parse", ref);
      const commit = git(bare, "rev-parse", `${ref}^{commit}`);
      const payload = pushPayload({ owner: OWNER, repo: name, ref, after, commit, cloneUrl: url(name) });
      return deliver(app.webhookUrl, "push", payload, { secret: SECRET, id: opts.id });
    },
    async close() {
      await app.close();
      await gitHttp.close();
      await github.close();
      cleanup();
    },
  };
}
