import { createPrivateKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { defaultPublishers } from "../github/default-publishers.js";
import { hexKeyFromEnv, storeResolver } from "../github/environment.js";
import { startSetupServer } from "../github/manifest-setup.js";
import { startAppServer } from "../github/server.js";
import { pemShapeProblem } from "../bytes/pem-shape.js";
import { parsePort } from "../net/listen.js";
import { parseFlags, UsageError, type CliContext, type Command } from "./command.js";

const HOW_TO_GET_CREDENTIALS =
  "Run `pkgpub app` with none of APP_ID, PRIVATE_KEY, PRIVATE_KEY_PATH set to register the App from app.yml and save them to .env; or, for an App made by hand (Settings > Developer settings > GitHub Apps > New GitHub App), set APP_ID, PRIVATE_KEY_PATH (the .pem from \"Generate a private key\") and WEBHOOK_SECRET (the secret you gave the App).";

const help = `pkgpub app: run the GitHub App (Probot) webhook server

Usage:
  pkgpub app [--port <n>] [--host <addr>] [--manifest <app.yml>] [--env-file <.env>]

Without App credentials (none of APP_ID, PRIVATE_KEY, PRIVATE_KEY_PATH set, here or in the
.env file), serves a registration page instead: it creates the App on GitHub from app.yml
(--manifest app.pull-request.yml for \`register: pull-request\`, which also needs
pull_requests: write), and saves the App's id, key and webhook secret to .env, which the next
\`pkgpub app\` in that directory reads. GET /health answers on both servers.

Receives push deliveries, checks each one's X-Hub-Signature-256, and answers at once; the work
runs in a queue that serializes per registry and per Hex repository. What a repository is comes
from its .github/pkgpub.yml (or the org's .github repository):

  kind: julia-registry          # push to the default branch: publish that commit
  kind: julia-package           # tag v1.2.3: register in the registry, then publish
  registry: https://github.com/acme/AcmeRegistry.git
  register: push                # or pull-request
  subdir: julia/Foo             # optional; or, for several packages in one repository:
  subdirs: { Foo: julia/Foo, Bar: julia/Bar }   # a tag Foo-v1.2.3 picks julia/Foo
  kind: hex-package             # tag v1.2.3: hex publish of the source at the tag
  hex_repo: acme
  build_tool: rebar3            # optional: mix or rebar3, for a repository with both
  store: s3://bucket/prefix     # optional; must be allowed by PKGPUB_STORE / PKGPUB_STORES

Options:
  --port <n>           listen port (default: $PORT or 3000; 0 picks a free one)
  --host <addr>        listen address (default: $HOST or 127.0.0.1)
  --manifest <file>    the App manifest the registration page posts (default: the shipped app.yml)
  --env-file <file>    read credentials from, and save them to, this file (default: ./.env)

Environment:
  APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH   the App's credentials
  WEBHOOK_SECRET                            required; the App refuses to start without it
  GITHUB_API_URL                            GitHub Enterprise API base URL (optional)
  PKGPUB_STORE, PKGPUB_STORES               the default store and other allowed stores
  PKGPUB_HEX_KEY or PKGPUB_HEX_KEY_FILE     PEM key that signs Hex repositories
  PKGPUB_SERVER_URL                         public URL of \`pkgpub serve\`, for install hints
  PKGPUB_RECONCILE_MINUTES                  reconcile every installation this often (60; 0: never)
  PKGPUB_GIT_CACHE_DIR                      where repository clones are kept (~/.cache/pkgpub/git)
  PORT (3000), HOST (127.0.0.1), LOG_LEVEL
  GITHUB_URL, GH_ORG                        registration: GitHub's web URL, and an org to own the App
  PKGPUB_APP_URL                            registration: the public URL GitHub sends webhooks to
`;

const command: Command = {
  path: ["app"],
  summary: "run the GitHub App (Probot) webhook server",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, { port: { type: "string" }, host: { type: "string" }, manifest: { type: "string" }, "env-file": { type: "string" } });
    // The .env the registration page writes (or any): its values fill what the environment lacks.
    const envFile = path.resolve(ctx.cwd, values["env-file"] ?? ".env");
    const env = { ...(existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {}), ...ctx.env } as NodeJS.ProcessEnv;
    let port: number;
    try {
      port = parsePort(values.port ?? env.PORT ?? "3000", values.port !== undefined ? "--port" : "PORT");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const host = values.host ?? env.HOST ?? "127.0.0.1";
    if (!env.APP_ID && !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH) return register(ctx, { port, host, envFile, manifest: values.manifest, env });
    if (!env.APP_ID) throw new Error(`APP_ID is not set. ${HOW_TO_GET_CREDENTIALS}`);
    const privateKey = env.PRIVATE_KEY ?? (env.PRIVATE_KEY_PATH ? await readFile(env.PRIVATE_KEY_PATH, "utf8") : undefined);
    if (!privateKey) throw new Error(`PRIVATE_KEY or PRIVATE_KEY_PATH is not set. ${HOW_TO_GET_CREDENTIALS}`);
    // Fail at start, not at the first GitHub call; the message never repeats the key.
    const pem = privateKey.includes("\\n") ? privateKey.replace(/\\n/g, "\n") : privateKey;
    try {
      createPrivateKey(pem);
    } catch {
      const problem = pemShapeProblem(pem);
      throw new Error(`${env.PRIVATE_KEY ? "PRIVATE_KEY" : `PRIVATE_KEY_PATH (${env.PRIVATE_KEY_PATH})`} is not a PEM private key${problem ? `: ${problem}` : ""} (the App's key: "Generate a private key" on the App's GitHub settings page)`);
    }
    const server = await startAppServer({
      appId: env.APP_ID,
      privateKey,
      webhookSecret: env.WEBHOOK_SECRET,
      baseUrl: env.GITHUB_API_URL,
      port,
      host,
      logLevel: (env.LOG_LEVEL as "info" | undefined) ?? "info",
      reconcileMinutes: Number(env.PKGPUB_RECONCILE_MINUTES ?? 60),
      deps: {
        // The App publishes registries other people push to: their Package.toml files may
        // name git URLs only, never paths on this server (where other installations' clones live).
        publishers: { ...defaultPublishers, julia: (o) => defaultPublishers.julia({ ...o, remoteRepositoriesOnly: true }) },
        openStore: storeResolver(env),
        hexKeyPem: await hexKeyFromEnv(env),
        serverUrl: env.PKGPUB_SERVER_URL,
        env,
      },
    });
    ctx.stdout.write(`pkgpub app listening on ${server.webhookUrl}\n`);
    if (ctx.stopSignal) {
      await new Promise<void>((resolve) => ctx.stopSignal!.addEventListener("abort", () => resolve(), { once: true }));
      ctx.stdout.write("stopping: finishing queued work\n");
      await server.close();
    } else {
      await new Promise(() => {});
    }
    return 0;
  },
};
export default command;

/** No credentials at all: serve the registration page that creates the App from its manifest. */
async function register(ctx: CliContext, o: { port: number; host: string; envFile: string; manifest: string | undefined; env: NodeJS.ProcessEnv }): Promise<number> {
  const manifestFile = o.manifest !== undefined ? path.resolve(ctx.cwd, o.manifest) : shippedFile("app.yml");
  if (!existsSync(manifestFile)) throw new UsageError(`--manifest: ${manifestFile} not found`);
  const apiUrl = o.env.GITHUB_API_URL ?? "https://api.github.com";
  const setup = await startSetupServer({
    manifestFile,
    envFile: o.envFile,
    githubUrl: o.env.GITHUB_URL ?? (apiUrl === "https://api.github.com" ? "https://github.com" : new URL(apiUrl).origin),
    apiUrl,
    org: o.env.GH_ORG,
    publicUrl: o.env.PKGPUB_APP_URL,
    port: o.port,
    host: o.host,
    log: (line) => ctx.stdout.write(`${line}\n`),
  });
  ctx.stdout.write(`pkgpub app: no App credentials (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET) yet.\nOpen ${setup.url}/ to register the App on GitHub from ${manifestFile}; the credentials will be saved to ${o.envFile}.\n`);
  const stop = new Promise<"stop">((resolve) => {
    if (ctx.stopSignal) ctx.stopSignal.addEventListener("abort", () => resolve("stop"), { once: true });
    else for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve("stop"));
  });
  const outcome = await Promise.race([setup.saved, stop]);
  await setup.close();
  if (outcome !== "stop") ctx.stdout.write(`Saved. Start \`pkgpub app\` again in this directory to serve the App's webhooks.\n`);
  return 0;
}

/** A file shipped with pkgpub (app.yml, app.pull-request.yml): next to package.json, found from this module. */
function shippedFile(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, name))) return path.join(dir, name);
    dir = path.dirname(dir);
  }
  return path.resolve(name);
}
