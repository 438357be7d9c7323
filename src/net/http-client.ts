// The one bounded HTTP client for everything fetched from outside (artifact downloads, mirror
// fetches): size caps, timeouts, a redirect policy and the address policy, in one place.
import { createHash } from "node:crypto";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { createWriteStream } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { hostAllowed, normalHost, refusal, type AddressPolicy } from "./address-policy.js";

export interface FetchPolicy extends AddressPolicy {
  /** Largest body accepted, in bytes (a larger Content-Length is refused before reading). */
  maxBytes: number;
  /** Milliseconds to wait for the response headers, and for each body chunk after them. */
  timeoutMs: number;
  /** Milliseconds for the whole exchange, body included (default: none beyond timeoutMs gaps). */
  totalTimeoutMs?: number;
  /** Redirects followed (default 5). */
  maxRedirects?: number;
  /**
   * Hosts a redirect may lead to besides the URL's own host (a release-asset CDN). A redirect
   * to any other host is refused, whatever its address.
   */
  redirectHosts?: readonly string[];
  /** When set, the only hosts that may be reached at all (a configured upstream). */
  onlyHosts?: readonly string[];
}

export type FetchFailure = "bad-url" | "refused-host" | "refused-address" | "refused-redirect" | "too-large" | "timeout" | "network" | "status";

/** A fetch that failed or was refused; the message names the URL without credentials or query. */
export class FetchError extends Error {
  override name = "FetchError";
  constructor(readonly reason: FetchFailure, message: string, readonly status?: number) {
    super(message);
  }
}

export interface FetchResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: URL;
  /** Content-Length when the upstream gave one. */
  length?: number;
  /**
   * The body, metered: it fails with a FetchError once it passes maxBytes or stalls. The caller
   * must consume or destroy it.
   */
  body: Readable;
}

export interface RequestOptions {
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  /** Aborts the request and the body (a client that went away). */
  signal?: AbortSignal;
  /** Headers for one hop (per-host credentials): asked again for each redirect's URL. */
  headersFor?: (url: URL) => Record<string, string>;
}

/** A URL as shown in messages: scheme, host and path; never user info or the query string. */
export function shownUrl(url: URL | string): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(not a URL)";
  }
}

/**
 * GETs a URL under a policy. Redirects are followed only to the same host or a listed one, never
 * from https to http; every address the name resolves to is checked before connecting (and the
 * connection uses the checked address, so a second DNS answer cannot swap it).
 */
export async function httpGet(url: string | URL, policy: FetchPolicy, options: RequestOptions = {}): Promise<FetchResponse> {
  let current: URL;
  try {
    current = typeof url === "string" ? new URL(url) : url;
  } catch {
    throw new FetchError("bad-url", "not a URL");
  }
  const maxRedirects = policy.maxRedirects ?? 5;
  const deadline = policy.totalTimeoutMs ? AbortSignal.timeout(policy.totalTimeoutMs) : undefined;
  const signal = deadline && options.signal ? AbortSignal.any([deadline, options.signal]) : (deadline ?? options.signal);
  for (let hop = 0; ; hop++) {
    checkTarget(current, policy);
    const res = await once(current, policy, options, signal);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304) {
      res.destroy();
      const location = res.headers.location;
      if (!location) throw new FetchError("status", `${shownUrl(current)}: HTTP ${status} without a Location`, status);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new FetchError("refused-redirect", `${shownUrl(current)}: HTTP ${status} to an invalid Location`, status);
      }
      if (current.protocol === "https:" && next.protocol !== "https:") {
        throw new FetchError("refused-redirect", `${shownUrl(current)} redirected from https to ${next.protocol.replace(":", "")}; refused`, status);
      }
      const sameHost = normalHost(next.hostname) === normalHost(current.hostname);
      const listed = (policy.redirectHosts ?? []).some((h) => normalHost(h) === normalHost(next.hostname));
      if (!sameHost && !listed) {
        throw new FetchError("refused-redirect", `${shownUrl(current)} redirected to another host (${normalHost(next.hostname)}); refused (list it in the redirect hosts setting to allow it)`, status);
      }
      if (hop >= maxRedirects) throw new FetchError("refused-redirect", `${shownUrl(url)}: more than ${maxRedirects} redirects`, status);
      current = next;
      continue;
    }
    const declared = Number(res.headers["content-length"]);
    const length = res.headers["content-length"] !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
    if (length !== undefined && length > policy.maxBytes) {
      res.destroy();
      throw new FetchError("too-large", `${shownUrl(current)}: ${length} bytes is over the ${policy.maxBytes}-byte limit`);
    }
    return { status, headers: res.headers, url: current, length, body: meter(res, current, policy) };
  }
}

/** Refuses a URL whose scheme or host the policy does not allow (before any connection). */
function checkTarget(url: URL, policy: FetchPolicy): void {
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new FetchError("bad-url", `${shownUrl(url)}: only http and https are supported`);
  const host = normalHost(url.hostname);
  if (policy.onlyHosts && !policy.onlyHosts.some((h) => normalHost(h) === host)) {
    throw new FetchError("refused-host", `${shownUrl(url)}: host ${host} is not a configured upstream; refused`);
  }
  // An IP literal is never looked up, so it is checked here.
  if (isIP(host)) {
    const why = refusal(policy, host, host);
    if (why) throw new FetchError("refused-address", `${shownUrl(url)}: ${why}`);
  }
}

/** A DNS lookup that fails when any answer is an address the policy refuses. */
function checkedLookup(policy: AddressPolicy, host: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      if (!hostAllowed(policy, host)) {
        for (const a of addresses) {
          const why = refusal(policy, host, a.address);
          if (why) return callback(new FetchError("refused-address", why), "", 0);
        }
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

function once(url: URL, policy: FetchPolicy, options: RequestOptions, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  const requestFn = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(
      url,
      {
        method: options.method ?? "GET",
        // identity: the bytes hashed and verified are exactly the server's file.
        headers: { "user-agent": "pkgpub", "accept-encoding": "identity", ...options.headers, ...options.headersFor?.(url) },
        lookup: checkedLookup(policy, url.hostname),
        agent: false,
        signal,
      },
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
    );
    const timer = setTimeout(() => req.destroy(new FetchError("timeout", `${shownUrl(url)}: no answer within ${policy.timeoutMs} ms`)), policy.timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      if (err instanceof FetchError) return reject(err);
      if (err.name === "AbortError") return reject(new FetchError("timeout", `${shownUrl(url)}: aborted (${signal?.reason instanceof Error ? signal.reason.message : "deadline"})`));
      const code = (err as NodeJS.ErrnoException).code;
      reject(new FetchError("network", `${shownUrl(url)}: ${code ?? err.message}`));
    });
    req.end();
  });
}

/** The response body, failing once it passes the byte cap or a gap between chunks passes the timeout. */
function meter(res: IncomingMessage, url: URL, policy: FetchPolicy): Readable {
  let n = 0;
  // The first cause wins: a stall destroys the response, which then also reports "aborted".
  let cause: FetchError | undefined;
  const fail = (err: FetchError) => {
    cause ??= err;
    out.destroy(cause);
  };
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      if (n > policy.maxBytes) return done(new FetchError("too-large", `${shownUrl(url)}: more than the ${policy.maxBytes}-byte limit`));
      done(null, chunk);
    },
  });
  res.setTimeout(policy.timeoutMs, () => {
    fail(new FetchError("timeout", `${shownUrl(url)}: body stalled for ${policy.timeoutMs} ms after ${n} bytes`));
    res.destroy();
  });
  res.on("error", (err) => fail(err instanceof FetchError ? err : new FetchError("network", `${shownUrl(url)}: cut off after ${n} bytes (${err.message})`)));
  res.on("aborted", () => fail(new FetchError("network", `${shownUrl(url)}: cut off after ${n} bytes`)));
  // The consumer going away (destroying the body) closes the connection: nothing is read for nobody.
  out.on("close", () => res.destroy());
  res.pipe(out);
  return out;
}

/** Streams a URL (status 200 only) into a new file; returns its sha256 and length. */
export async function downloadToFile(url: string, file: string, policy: FetchPolicy, options: RequestOptions = {}): Promise<{ sha256: string; bytes: number }> {
  const res = await httpGet(url, policy, options);
  if (res.status !== 200) {
    res.body.destroy();
    throw new FetchError("status", `${shownUrl(res.url)}: HTTP ${res.status}`, res.status);
  }
  const hash = createHash("sha256");
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(res.body, tap, createWriteStream(file, { flags: "wx" }));
  return { sha256: hash.digest("hex"), bytes };
}
