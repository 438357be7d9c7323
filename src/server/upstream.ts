import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { HttpError } from "./http-error.js";
import type { Metrics } from "./metrics.js";

export interface UpstreamOptions {
  /** Seconds to wait for response headers, and for each body chunk after them. */
  timeout: number;
  /** Consecutive failures after which the upstream is left alone for `cooldown` seconds. */
  failureThreshold: number;
  cooldown: number;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingMessage["headers"];
  /** The body (null for 304 and HEAD); the caller must consume or destroy it. */
  body: Readable | null;
}

const MAX_REDIRECTS = 5;

/**
 * The only way the server reaches the network. Requests go to one configured origin; redirects
 * are followed only within it (a redirect elsewhere is refused, whatever it points at); a dead
 * upstream trips a breaker so that requests fail fast instead of piling up.
 */
export class Upstream {
  readonly origin: string;
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private failures = 0;
  private openUntil = 0;

  constructor(
    readonly label: string,
    baseUrl: string,
    private readonly options: UpstreamOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    this.origin = this.base.origin;
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    this.agent = this.base.protocol === "https:" ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  /** GET (or HEAD) a path relative to the base URL ("registries", "packages/jason"). */
  async get(relPath: string, headers: Record<string, string> = {}, method: "GET" | "HEAD" = "GET"): Promise<UpstreamResponse> {
    const now = Date.now();
    if (now < this.openUntil) {
      this.metrics.upstreamError(this.label, "circuit_open");
      throw new HttpError(
        502,
        `upstream ${this.origin} is marked down after ${this.failures} consecutive failures; next attempt in ${Math.ceil((this.openUntil - now) / 1000)} s`,
      );
    }
    let url = new URL(relPath, this.base);
    const started = process.hrtime.bigint();
    try {
      for (let hop = 0; ; hop++) {
        const res = await this.once(url, headers, method);
        if (res.status >= 300 && res.status < 400 && res.status !== 304) {
          res.body?.destroy();
          const location = res.headers.location;
          if (!location) throw new HttpError(502, `upstream ${this.origin} answered ${res.status} without a Location`);
          const next = new URL(location, url);
          if (next.origin !== this.origin) {
            this.metrics.upstreamError(this.label, "foreign_redirect");
            // Not counted as a failure of the upstream: it answered, we refuse to follow.
            throw new HttpError(502, `upstream ${this.origin} redirected to another host (${next.host}); refused`);
          }
          if (hop >= MAX_REDIRECTS) throw new HttpError(502, `upstream ${this.origin}: too many redirects`);
          url = next;
          continue;
        }
        if (res.status >= 500) {
          res.body?.destroy();
          this.failed("status_5xx");
          throw new HttpError(502, `upstream ${this.origin} answered ${res.status}`);
        }
        this.metrics.upstreamLatency(this.label, Number(process.hrtime.bigint() - started) / 1e9);
        this.failures = 0;
        return res;
      }
    } catch (err) {
      if (err instanceof HttpError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      if (code === "UPSTREAM_TIMEOUT") {
        this.failed("timeout");
        throw new HttpError(504, `upstream ${this.origin} did not answer within ${this.options.timeout} s`);
      }
      this.failed("connect");
      throw new HttpError(502, `upstream ${this.origin} unreachable (${code})`);
    }
  }

  private failed(reason: string): void {
    this.metrics.upstreamError(this.label, reason);
    this.failures++;
    if (this.failures >= this.options.failureThreshold) {
      this.openUntil = Date.now() + this.options.cooldown * 1000;
      this.log.warn({ upstream: this.origin, failures: this.failures, cooldown_s: this.options.cooldown }, "upstream marked down");
    }
  }

  private once(url: URL, headers: Record<string, string>, method: string): Promise<UpstreamResponse> {
    const requestFn = url.protocol === "https:" ? httpsRequest : httpRequest;
    const timeoutMs = this.options.timeout * 1000;
    return new Promise((resolve, reject) => {
      const req = requestFn(
        url,
        {
          method,
          agent: this.agent,
          // identity: the bytes we pass on and verify are exactly the upstream's files.
          headers: { "user-agent": "pkgpub", "accept-encoding": "identity", ...headers },
        },
        (res) => {
          clearTimeout(timer);
          // After the headers, the same timeout applies to each gap between body chunks.
          res.setTimeout(timeoutMs, () => res.destroy(Object.assign(new Error("upstream body stalled"), { code: "UPSTREAM_TIMEOUT" })));
          const noBody = method === "HEAD" || res.statusCode === 304 || res.statusCode === 204;
          if (noBody) res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: noBody ? null : res });
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error("timeout"), { code: "UPSTREAM_TIMEOUT" })), timeoutMs);
      req.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A small upstream body (an index, a signed registry resource) read whole, bounded; a body
 * that is too large, reset or stalled is the upstream's failure (502), not an internal error.
 */
export async function readUpstreamBody(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > limit) {
        body.destroy();
        throw new HttpError(502, `upstream response larger than ${limit} bytes`);
      }
      chunks.push(c);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(502, `upstream response cut off after ${n} bytes (${(err as Error).message})`);
  }
  return Buffer.concat(chunks);
}
