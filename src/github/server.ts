// The App's HTTP server: Probot's webhook middleware (signature checked on every delivery) on
// node:http, plus /healthz. Refuses to start without a real webhook secret.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, ProbotOctokit } from "probot";
import { listen } from "../net/listen.js";
import { createPkgpubApp, type AppDeps, type PkgpubApp } from "./app.js";
import { reconcileInstallations } from "./app-reconcile.js";
import type { ReconcileReport } from "./reconcile.js";

export interface AppServerOptions {
  appId: string | number;
  privateKey: string;
  webhookSecret: string | undefined;
  /** GitHub API base URL (GitHub Enterprise, or a fake in tests). */
  baseUrl?: string;
  port?: number;
  host?: string;
  webhookPath?: string;
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  /** Turn off Octokit's retries and throttling (tests against a local API). */
  noRetry?: boolean;
  /** Run reconcile over every installation this often (0: never; `reconcileNow()` still works). */
  reconcileMinutes?: number;
  deps: AppDeps;
}

export interface AppServer {
  url: string;
  webhookUrl: string;
  app: PkgpubApp;
  /** Publishes whatever the store lacks for every installation's configured repositories. */
  reconcileNow(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

export function checkWebhookSecret(secret: string | undefined): string {
  if (!secret || secret.trim() === "") throw new Error("WEBHOOK_SECRET is not set: refusing to accept unsigned webhook deliveries");
  if (secret === "development") throw new Error('WEBHOOK_SECRET is Probot\'s default "development": set a real secret');
  return secret;
}

/** GitHub caps webhook payloads at 25 MB. */
const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const secret = checkWebhookSecret(options.webhookSecret);
  const app = createPkgpubApp(options.deps);
  const probot = new Probot({
    appId: options.appId,
    privateKey: options.privateKey,
    secret,
    baseUrl: options.baseUrl,
    logLevel: options.logLevel ?? "info",
    ...(options.noRetry ? { Octokit: ProbotOctokit.defaults((o: object) => ({ ...o, retry: { enabled: false }, throttle: { enabled: false } })) } : {}),
  });
  const webhookPath = options.webhookPath ?? "/api/github/webhooks";
  const middleware = await createNodeMiddleware(app.appFn, { probot, webhooksPath: webhookPath });
  const server = http.createServer((req, res) => {
    if (req.method === "POST" && !(Number(req.headers["content-length"]) <= MAX_WEBHOOK_BYTES)) {
      // The signature can be checked only once the body is read: refuse to buffer more than
      // GitHub ever sends. The rest is drained unread, so the sender sees the answer.
      res.writeHead(413, { "content-type": "text/plain", connection: "close" }).end(`webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes with a Content-Length\n`);
      req.resume();
      return;
    }
    if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end(`ok ${app.queue.size} queued\n`);
      return;
    }
    void middleware(req, res, () => res.writeHead(404, { "content-type": "text/plain" }).end("not found\n"));
  });
  await listen(server, options.port ?? 3000, options.host ?? "127.0.0.1", { portSettings: "--port <n> or PORT", hostSettings: "--host or HOST" });
  const { port } = server.address() as AddressInfo;
  const log = probot.log.child({ name: "reconcile" });
  let running: Promise<ReconcileReport> | undefined;
  const reconcileNow = () => {
    // One reconcile at a time; a timer tick during a long run joins it.
    running ??= reconcileInstallations(probot, options.deps, app.queue, (line) => log.info(line)).finally(() => (running = undefined));
    return running;
  };
  const timer = options.reconcileMinutes
    ? setInterval(() => void reconcileNow().catch((err: unknown) => log.error(`reconcile: ${(err as Error).message}`)), options.reconcileMinutes * 60_000)
    : undefined;
  timer?.unref();
  const host = options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url,
    webhookUrl: `${url}${webhookPath}`,
    app,
    reconcileNow,
    async close() {
      if (timer) clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running?.catch(() => undefined);
      await app.queue.idle();
    },
  };
}
