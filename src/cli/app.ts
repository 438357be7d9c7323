import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { defaultPublishers } from "../github/default-publishers.js";
import { hexKeyFromEnv, storeResolver } from "../github/environment.js";
import { startAppServer } from "../github/server.js";
import { pemShapeProblem } from "../bytes/pem-shape.js";
import { parsePort } from "../net/listen.js";
import { parseFlags, UsageError, type Command } from "./command.js";

const HOW_TO_GET_CREDENTIALS =
  "Create the App on GitHub (Settings > Developer settings > GitHub Apps > New GitHub App, with the permissions and events of app.yml), then set APP_ID, PRIVATE_KEY_PATH (the .pem from \"Generate a private key\") and WEBHOOK_SECRET (the secret you gave the App).";

const help = `pkgpub app: run the GitHub App (Probot) webhook server

Usage:
  pkgpub app [--port <n>] [--host <addr>]

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

Environment:
  APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH   the App's credentials
  WEBHOOK_SECRET                            required; the App refuses to start without it
  GITHUB_API_URL                            GitHub Enterprise API base URL (optional)
  PKGPUB_STORE, PKGPUB_STORES               the default store and other allowed stores
  PKGPUB_HEX_KEY or PKGPUB_HEX_KEY_FILE     PEM key that signs Hex repositories
  PKGPUB_SERVER_URL                         public URL of \`pkgpub serve\`, for install hints
  PKGPUB_RECONCILE_MINUTES                  reconcile every installation this often (60; 0: never)
  PORT (3000), HOST (127.0.0.1), LOG_LEVEL
`;

const command: Command = {
  path: ["app"],
  summary: "run the GitHub App (Probot) webhook server",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, { port: { type: "string" }, host: { type: "string" } });
    const env = ctx.env;
    let port: number;
    try {
      port = parsePort(values.port ?? env.PORT ?? "3000", values.port !== undefined ? "--port" : "PORT");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const host = values.host ?? env.HOST ?? "127.0.0.1";
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
