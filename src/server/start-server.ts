import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { listen } from "../net/listen.js";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/store.js";
import { AccessControl } from "./access.js";
import { createApp, type RequestDoor, type ResourceSource } from "./app.js";
import { BrowsePage } from "./browse.js";
import type { HexMirrorConfig, TokenConfig } from "./config.js";
import { DiskCache } from "./disk-cache.js";
import { DocsPages } from "./docs-pages.js";
import { HexMirror } from "./hex-mirror.js";
import { RegistryFlavors } from "./registry-flavors.js";
import { JuliaUpstream } from "./julia-upstream.js";
import { Metrics } from "./metrics.js";
import { MemoryCache } from "./memory-cache.js";
import { Upstream, type UpstreamOptions } from "./upstream.js";

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
  /** Bytes of hot objects this process holds in memory (default 64 MiB; 0: none; see memory-cache.ts). */
  memoryCacheBytes?: number;
  /** Upper bound on open connections; more are refused at accept. */
  maxConnections?: number;
  /** How long close() lets requests in flight finish before cutting them. */
  shutdownGraceMs?: number;
  /** A client must send its request headers within this time (slow-loris bound). */
  headersTimeoutMs?: number;
  /** Upstream Pkg server for fallthrough (none by default) and how long its /registries is reused. */
  julia?: { upstream?: string; registriesTtl?: number };
  hexMirrors?: HexMirrorConfig[];
  /** Where verified upstream content is cached; needed only with an upstream or a mirror. */
  cache?: { dir: string; maxBytes?: number };
  upstream?: Partial<UpstreamOptions>;
  /** Access tokens; none means open access. */
  tokens?: TokenConfig[];
  metrics?: Metrics;
  /** What /metrics shows, when not these metrics alone (a cluster worker: the sum of all workers). */
  renderMetrics?: () => Promise<string>;
  /** The Hex HTTP API (cli/serve.ts builds it from [[hex_publish]]); absent, the server takes no writes. */
  door?: (store: Store, log: Logger) => RequestDoor;
  /** Repositories the door takes writes for (shown on the browse page). */
  publishRepos?: string[];
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
  let stdoutDestination: ReturnType<typeof pino.destination> | undefined;
  const store = typeof options.store === "object" ? options.store : await openStore(options.store, env);
  const log = isLogger(options.log)
    ? options.log
    : pino(
        {
          level: options.logLevel ?? "info",
          base: undefined,
          // No redaction pass (it costs on every line): log lines are built field by field from
          // the request state and never include headers or credentials.
        },
        // On the process's stdout, an asynchronous writer keeps one log line per request off
        // the hot path: lines that come while a write is in flight go out together with the
        // next one. No minimum length: on a quiet server a line is written at once, not held
        // back until a few KiB have gathered.
        options.log === undefined || options.log === process.stdout
          ? (stdoutDestination = pino.destination({ dest: 1, sync: false }))
          : (options.log as NodeJS.WritableStream),
      );
  // The request line is the one log call per request: written as pino would write it
  // ({"level":30,"time":…,…,"msg":"request"}) without its general-purpose serializer.
  const lineSink = isLogger(options.log) ? undefined : (stdoutDestination ?? (options.log as NodeJS.WritableStream));
  const requestLog = lineSink
    ? (fields: Record<string, unknown>) => {
        // The fields' own JSON spliced between pino's first and last keys: no object copied per line.
        if (log.isLevelEnabled("info")) lineSink.write(`{"level":30,"time":${Date.now()},${JSON.stringify(fields).slice(1, -1)},"msg":"request"}\n`);
      }
    : undefined;
  const metrics = options.metrics ?? new Metrics();
  const access = new AccessControl(options.tokens ?? []);
  const memory = new MemoryCache(options.memoryCacheBytes ?? 64 * 1024 * 1024);
  const upstreamOptions: UpstreamOptions = { timeout: 10, failureThreshold: 5, cooldown: 30, ...options.upstream };
  const upstreams: Upstream[] = [];
  const before: ResourceSource[] = [];
  const after: ResourceSource[] = [];
  const needsCache = Boolean(options.julia?.upstream) || (options.hexMirrors?.length ?? 0) > 0;
  const cache = needsCache ? await DiskCache.open(options.cache?.dir ?? "./pkgpub-cache", options.cache?.maxBytes ?? 2e9) : null;
  for (const m of options.hexMirrors ?? []) {
    const up = new Upstream(`hex:${m.name}`, m.upstream, upstreamOptions, metrics, log);
    upstreams.push(up);
    // Before the store: a mirror's name is the upstream's, whatever the store holds under it.
    before.push(new HexMirror(m, up, cache!, metrics, log));
  }
  // First: /registries redirects by flavour before any listing is read.
  before.push(new RegistryFlavors(store, !options.julia?.upstream));
  if (options.julia?.upstream) {
    const up = new Upstream("julia", options.julia.upstream, upstreamOptions, metrics, log);
    upstreams.push(up);
    const julia = new JuliaUpstream(up, cache!, store, (options.julia.registriesTtl ?? 60) * 1000, metrics, log, memory);
    before.push(julia.registries);
    after.push(julia.misses);
  }
  before.push(new DocsPages(store));
  before.push(
    new BrowsePage({
      store,
      access,
      mirrors: (options.hexMirrors ?? []).map((m) => ({ name: m.name, upstream: m.upstream })),
      juliaUpstream: options.julia?.upstream,
      log,
      publishRepos: options.publishRepos,
    }),
  );
  const app = createApp({
    store,
    log,
    metrics,
    before,
    after,
    access: access.check,
    ...(options.door ? { door: options.door(store, log) } : {}),
    visibility: access.enabled ? "private" : "public",
    memory,
    requestLog,
    ...(options.renderMetrics ? { renderMetrics: options.renderMetrics } : {}),
  });
  const server = createServer(
    {
      keepAlive: true,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs ?? 15_000,
      requestTimeout: Math.max(options.headersTimeoutMs ?? 15_000, 30_000),
      connectionsCheckingInterval: 1_000,
    },
    app,
  );
  server.maxConnections = options.maxConnections ?? 4096;
  // Node's own headersTimeout check can miss connections accepted under a connect storm; a
  // socket that has not completed a request line and headers in time is cut here as well.
  const firstRequestDeadline = new WeakMap<object, NodeJS.Timeout>();
  const headersTimeoutMs = options.headersTimeoutMs ?? 15_000;
  server.on("connection", (socket) => {
    const timer = setTimeout(() => socket.destroy(), headersTimeoutMs + 1_000);
    timer.unref();
    firstRequestDeadline.set(socket, timer);
    socket.once("close", () => clearTimeout(timer));
  });
  server.on("request", (req) => {
    const timer = firstRequestDeadline.get(req.socket);
    if (timer) clearTimeout(timer);
  });
  // With this listener Node sends no automatic 100 Continue: a door sends it only once it has
  // checked the key and the declared size (a refused upload is never sent); others never read.
  server.on("checkContinue", (req, res) => {
    const timer = firstRequestDeadline.get(req.socket);
    if (timer) clearTimeout(timer);
    app(req, res);
  });
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
  await listen(server, options.port ?? 8000, host, { portSettings: "--port <n>, PKGPUB_PORT or port in the config file", hostSettings: "--host, PKGPUB_HOST or host in the config file" });
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
        for (const up of upstreams) up.close();
        stdoutDestination?.flushSync();
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
