import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/store.js";
import { createApp, type AccessCheck, type ResourceSource } from "./app.js";
import { Metrics } from "./metrics.js";

export interface ServerOptions {
  /** A Store, or a store spec as --store takes it (directory, file://, s3://). */
  store?: Store | string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where the JSON request log goes (default stdout); or a ready pino logger. */
  log?: Logger | NodeJS.WritableStream;
  logLevel?: string;
  env?: NodeJS.ProcessEnv;
  /** Upper bound on open connections; more are refused at accept. */
  maxConnections?: number;
  /** How long close() lets requests in flight finish before cutting them. */
  shutdownGraceMs?: number;
  before?: ResourceSource[];
  after?: ResourceSource[];
  access?: AccessCheck;
  visibility?: "public" | "private";
  metrics?: Metrics;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8000 (no trailing slash: the JULIA_PKG_SERVER value). */
  url: string;
  server: Server;
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** Stops accepting, lets requests in flight finish (up to the grace period), then resolves. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const store = typeof options.store === "object" ? options.store : await openStore(options.store, env);
  const log = isLogger(options.log)
    ? options.log
    : pino(
        {
          level: options.logLevel ?? "info",
          base: undefined,
          // Request lines never carry headers, but a misplaced field must not leak a secret either.
          redact: ["req.headers.authorization", "*.authorization", "*.token", "*.secretAccessKey", "*.privateKey"],
        },
        (options.log ?? process.stdout) as NodeJS.WritableStream,
      );
  const metrics = options.metrics ?? new Metrics();
  const app = createApp({
    store,
    log,
    metrics,
    before: options.before,
    after: options.after,
    access: options.access,
    visibility: options.visibility,
  });
  const server = createServer(
    {
      keepAlive: true,
      keepAliveTimeout: 30_000,
      headersTimeout: 15_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 1_000,
    },
    app,
  );
  server.maxConnections = options.maxConnections ?? 4096;
  // A client that stops reading for a minute is gone; its socket and store stream are freed.
  server.setTimeout(60_000, (socket) => socket.destroy());
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      const status = err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8000, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
      grace.unref();
      server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      // Idle keep-alive sockets would hold close() open; busy ones finish their response first.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      sweep.unref();
      server.once("close", () => clearInterval(sweep));
    });
    return closing;
  };
  return { url, server, store, log, metrics, close };
}

function isLogger(value: unknown): value is Logger {
  return typeof value === "object" && value !== null && typeof (value as Logger).child === "function" && typeof (value as Logger).info === "function";
}
