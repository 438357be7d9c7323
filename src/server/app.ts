import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import { bufferEntity, EntityChangedError, IMMUTABLE, REVALIDATE, sendEntity, type Entity } from "./entity.js";
import { HttpError } from "./http-error.js";
import type { Metrics } from "./metrics.js";
import { contentTypeOf, isImmutable, parseTarget, routeLabel, storeKey, type Resource } from "./resource-path.js";
import { currentEntity, immutableEntity, MemoryCache } from "./memory-cache.js";

/** What one request did, for its log line and the metrics. */
export interface RequestState {
  route: string;
  /** "store", "hit", "miss", "stale", ...: where the body came from. */
  source?: string;
  /** Set by the access check; never the token itself. */
  tokenName?: string;
}

/** A source of resources beyond the store (upstream fallthrough, mirrors, pages). */
export interface ResourceSource {
  /** The only resource kinds it can answer: the others pass it by without a call (hot path). */
  readonly kinds?: ReadonlySet<Resource["kind"]>;
  /** The entity to send, null to fall back to the next source (a 404 in the end). */
  entity(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity | null>;
}

/**
 * A door that takes some requests whole (the Hex HTTP API, given by cli/serve.ts so that the
 * server never imports the publish code): it answers them itself, including writes.
 */
export interface RequestDoor {
  claims(url: string): boolean;
  /** Sends the whole response; resolves to its status. */
  handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<number>;
}

/** Checks access; throws HttpError 401/403. */
export type AccessCheck = (resource: Resource, req: IncomingMessage, state: RequestState) => void;

export interface AppOptions {
  store: Store;
  log: Logger;
  metrics: Metrics;
  /** Tried in order before the store (e.g. merged /registries) or after it (misses); see kind. */
  before?: ResourceSource[];
  after?: ResourceSource[];
  access?: AccessCheck;
  /** Requests it claims skip the read-only path (and its 405 for writes). */
  door?: RequestDoor;
  /** Writes the per-request line (same shape as the logger's) faster than the logger would. */
  requestLog?: (fields: Record<string, unknown>) => void;
  /** Small immutable objects held in memory (shared with the upstream caches). */
  memory?: MemoryCache;
  /** Renders /metrics (a cluster worker asks the primary for every worker's sum); default: these metrics. */
  renderMetrics?: () => Promise<string>;
  /** Cache-Control prefix for stored resources: "public" normally, "private" when tokens guard them. */
  visibility?: "public" | "private";
}

const ALLOW = "GET, HEAD";

/**
 * The request listener: method check, strict path parsing, access check, then the first source
 * that has the resource. Every failure becomes a status with a short text body; nothing a
 * request does can take the listener down.
 */
export function createApp(options: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, log, metrics } = options;
  const visibility = options.visibility ?? "public";
  const memory = options.memory ?? new MemoryCache();
  const immutable = IMMUTABLE.replace("public", visibility);
  const before = options.before ?? [];
  const after = options.after ?? [];

  async function resolve(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity> {
    if (resource.kind === "health") return bufferEntity("ok\n", "text/plain; charset=utf-8", "no-store");
    if (resource.kind === "metrics") {
      return bufferEntity(options.renderMetrics ? await options.renderMetrics() : metrics.render(), "text/plain; version=0.0.4; charset=utf-8", "no-store");
    }
    for (const source of before) {
      if (source.kinds && !source.kinds.has(resource.kind)) continue;
      const e = await source.entity(resource, req, state);
      if (e) return e;
    }
    const key = storeKey(resource);
    if (key !== null) {
      const fixed = isImmutable(resource);
      const look = { contentType: contentTypeOf(resource), cacheControl: fixed ? immutable : REVALIDATE };
      const e = fixed ? await immutableEntity(memory, store, "store", key, req, look) : await currentEntity(memory, store, key, req, look);
      if (e) {
        state.source = "store";
        return e;
      }
    }
    for (const source of after) {
      if (source.kinds && !source.kinds.has(resource.kind)) continue;
      const e = await source.entity(resource, req, state);
      if (e) return e;
    }
    throw new HttpError(404, "not found");
  }

  async function handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<number> {
    if (options.door?.claims(req.url ?? "")) return options.door.handle(req, res, state);
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, `method ${req.method} not allowed (this server is read-only)`, { Allow: ALLOW });
    }
    const parsed = parseTarget(req.url ?? "");
    if (!parsed.ok) throw new HttpError(parsed.status, parsed.reason);
    state.route = routeLabel(parsed.resource);
    options.access?.(parsed.resource, req, state);
    for (let attempt = 0; ; attempt++) {
      let entity = await resolve(parsed.resource, req, state);
      // Behind tokens, no shared cache (CDN, corporate proxy) may keep a copy for others.
      if (visibility === "private" && entity.cacheControl.startsWith("public")) {
        entity = { ...entity, cacheControl: `private${entity.cacheControl.slice("public".length)}` };
      }
      try {
        const sent = await sendEntity(req, res, entity);
        await sent.done;
        if (sent.bodyBytes > 0 && res.writableEnded) metrics.bytesSent(state.route, sent.bodyBytes);
        return sent.status;
      } catch (err) {
        // A mutable object replaced between its metadata and its bytes: look again, once.
        if (err instanceof EntityChangedError && attempt === 0 && !res.headersSent) continue;
        throw err;
      }
    }
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    const state: RequestState = { route: "other" };
    const remote = req.socket.remoteAddress;
    metrics.inFlight++;
    let logged = false;
    const finish = (status: number, error?: unknown) => {
      if (logged) return;
      logged = true;
      metrics.inFlight--;
      metrics.request(state.route, req.method ?? "?", status);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        method: req.method,
        path: loggablePath(req.url),
        status,
        route: state.route,
        source: state.source,
        token: state.tokenName,
        ms: Math.round(ms * 10) / 10,
        complete: res.writableEnded,
        remote,
      };
      if (error) log.error({ ...line, err: errorSummary(error) }, "request failed");
      else if (options.requestLog) options.requestLog(line);
      else log.info(line, "request");
    };
    handle(req, res, state).then(
      (status) => finish(status),
      (err: unknown) => {
        if (err instanceof HttpError) {
          sendError(req, res, err.status, err.message, err.headers);
          finish(err.status, err.status >= 500 && err.status !== 502 && err.status !== 504 ? err : undefined);
          return;
        }
        if (!res.headersSent) sendError(req, res, 500, "internal error (logged)");
        else res.destroy();
        finish(500, err);
      },
    );
  };
}

export function sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${message}\n`, "utf8");
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(body.length),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** The path without the query (which could carry anything), bounded and printable. */
function loggablePath(url: string | undefined): string {
  const path = (url ?? "").split("?")[0]!;
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function errorSummary(err: unknown): { type: string; message: string } {
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { type: typeof err, message: String(err) };
}
