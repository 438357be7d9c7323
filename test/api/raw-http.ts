/**
 * Raw HTTP/1.1 over a socket, for what a well-behaved client library will not do: send headers
 * and then only part of the declared body, or hang up mid-upload, or read the answer before
 * sending a single body byte. The answer is parsed just enough to check status, headers and the
 * ETF body.
 */
import { connect, type Socket } from "node:net";
import { decodeEtf, type EtfValue } from "../../src/hex/etf.js";

export interface RawAnswer {
  /** Every status line received, in order (a 100 Continue shows up here first). */
  statuses: number[];
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  term: EtfValue | undefined;
}

export function openSocket(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => resolve(s));
    s.once("error", reject);
  });
}

/** The request head as httpc writes it for hex_core (raw key, empty te). */
export function requestHead(url: string, method: string, headers: Record<string, string>): string {
  const u = new URL(url);
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `host: ${u.host}`, "te: ", "accept: application/vnd.hex+erlang", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** Collects what the server sends until it closes the connection or a final answer is whole. */
export function readAnswer(socket: Socket): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const statuses: number[] = [];
    const tryParse = (final: boolean) => {
      let rest = buf;
      for (;;) {
        const end = rest.indexOf("\r\n\r\n");
        if (end === -1) break;
        const lines = rest.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(":");
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const after = rest.subarray(end + 4);
        if (status === 100) {
          // Consumed here, so a later data event does not count it again.
          statuses.push(100);
          rest = after;
          buf = rest;
          continue;
        }
        const length = Number(headers["content-length"] ?? (status === 204 ? 0 : NaN));
        if (!Number.isNaN(length) && after.length < length && !final) return;
        if (Number.isNaN(length) && !final) return;
        const body = Number.isNaN(length) ? after : after.subarray(0, length);
        statuses.push(status);
        settled = true;
        const etf = (headers["content-type"] ?? "").includes("application/vnd.hex+erlang") && body.length > 0;
        resolve({ statuses, status, headers, body, term: etf ? decodeEtf(body) : undefined });
        return;
      }
      if (final && !settled) {
        settled = true;
        reject(new Error(`connection closed without a final answer (received ${JSON.stringify(buf.toString("latin1").slice(0, 200))}, statuses ${statuses.join(",")})`));
      }
    };
    socket.on("data", (c: Buffer) => {
      if (settled) return;
      buf = Buffer.concat([buf, c]);
      tryParse(false);
    });
    socket.on("close", () => !settled && tryParse(true));
    socket.on("error", () => undefined);
  });
}

/** Waits until the server has closed the connection (or gives up after `ms`, resolving false). */
export function closedBy(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(t);
      resolve(true);
    });
    socket.resume();
  });
}
