/**
 * API responses: every body is application/vnd.hex+erlang (the only type the Hex clients
 * decode), errors in hex.pm's shape {status, message, errors} so `mix` and `rebar3` print the
 * message and each field.
 */
import type { ServerResponse } from "node:http";
import { encodeEtf, type EtfMap, type EtfValue } from "../hex/etf.js";

export const HEX_ERLANG = "application/vnd.hex+erlang";

/** A refusal the handlers throw; the router sends it. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: EtfMap,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendTerm(res: ServerResponse, status: number, body: EtfValue, headers: Record<string, string> = {}): void {
  const bytes = encodeEtf(body);
  res.writeHead(status, { "Content-Type": HEX_ERLANG, "Content-Length": String(bytes.length), "Cache-Control": "no-store", ...headers });
  res.end(res.req.method === "HEAD" ? undefined : bytes);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Cache-Control": "no-store", ...(status === 204 ? {} : { "Content-Length": "0" }), ...headers });
  res.end();
}

export function sendApiError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: EtfMap = { status: err.status, message: err.message, ...(err.errors ? { errors: err.errors } : {}) };
  // A refused upload is not read: closing the connection spares reading (and discarding) it,
  // and tells a client waiting on Expect: 100-continue that no body is wanted.
  const unread = res.req.headers.expect !== undefined || Number(res.req.headers["content-length"] ?? 0) > 0 || res.req.headers["transfer-encoding"] !== undefined;
  sendTerm(res, err.status, body, { ...err.headers, ...(unread && !res.req.complete ? { Connection: "close" } : {}) });
}

/** x-hex-message: the client prints "API warning: <text>" (level=warn). */
export function hexWarning(text: string): Record<string, string> {
  return { "x-hex-message": `"${text.replace(/["\\\r\n]/g, " ")}"; level=warn` };
}
