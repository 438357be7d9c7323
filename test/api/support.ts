/**
 * Driving `pkgpub serve` with the Hex API on: a config file with [[hex_publish]] and tokens, the
 * server as a real process, and requests sent the way Hex 2.5.1 / rebar3_hex send them (raw
 * key in authorization, an empty te header, Expect: 100-continue on publish), with the
 * response body decoded as the client decodes it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { decodeEtf, type EtfValue } from "../../src/hex/etf.js";
import { writeTar } from "../../src/hex/tar.js";
import { PKGPUB_BIN } from "../support/cli.js";
import { TEST_WORKERS } from "../support/serve.js";
import { serveConfigToml } from "../support/serve-config.js";

export const UA = "hex_core/0.18.0 hex/2.5.1 (elixir/1.14.0) (OTP/25) (erts/13.1.5)";
export const KEY = "secret-key-for-ci-0001";
export const READER = "reader-token-0000001";
export const NO_REPLACE = "publisher-without-replace-1";
export const OTHER_REPO = "key-for-beta-only-0001";

export interface ServeHandle {
  url: string;
  stop: () => Promise<void>;
  output: () => string;
}

/** Writes a config with repositories acme and beta open for writes and four tokens, and starts serve. */
export async function startApiServe(dir: string, storeSpec: string, env: NodeJS.ProcessEnv, keyPem: string, options: { api?: boolean } = {}): Promise<ServeHandle> {
  writeFileSync(path.join(dir, "acme.pem"), keyPem);
  writeFileSync(path.join(dir, "beta.pem"), keyPem);
  const api = options.api ?? true;
  const reader = { name: "reader", token: READER, scopes: ["/repos/acme"] };
  const writers = [
    { name: "ci", token: KEY, scopes: ["/repos/acme"], publish: ["acme"], replace: ["acme"] },
    { name: "dev", token: NO_REPLACE, scopes: ["/repos/acme"], publish: ["acme"] },
    { name: "beta-ci", token: OTHER_REPO, scopes: [], publish: ["beta"] },
  ];
  // With PKGPUB_TEST_WORKERS=n, n workers take the writes: concurrent publishes to one
  // repository then meet in the store, not in one process's write queue.
  const config = serveConfigToml({ port: 0, logLevel: "warn", tokens: api ? [...writers, reader] : [reader] }, storeSpec, {
    workers: TEST_WORKERS,
    hexPublish: api ? [{ repo: "acme", privateKey: "acme.pem" }, { repo: "beta", privateKey: "env:BETA_KEY_PEM" }] : [],
  });
  const file = path.join(dir, "pkgpub.toml");
  writeFileSync(file, config);
  const child: ChildProcess = spawn(process.execPath, [PKGPUB_BIN, "serve", "--config", file], { env: { ...process.env, ...env, BETA_KEY_PEM: keyPem }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const m = /on (http:\/\/[0-9.:]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("exit", (code) => reject(new Error(`pkgpub serve exited with ${code}: ${out}`)));
  });
  return {
    url,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface HexResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as the client decodes it: only with the vnd.hex+erlang content type, else undefined. */
  term: EtfValue | undefined;
  /** Whether the server sent 100 Continue. */
  continued: boolean;
}

export interface HexRequest {
  method?: string;
  key?: string | null;
  body?: Uint8Array;
  contentType?: string;
  /** As mix on publish: expect 100-continue and connection: close. */
  expectContinue?: boolean;
  connection?: string;
  /** Another client's user-agent (rebar3_hex). */
  userAgent?: string;
}

/** One request as httpc sends it for hex_core. */
export function hexRequest(url: string, r: HexRequest = {}): Promise<HexResponse> {
  const u = new URL(url);
  const body = r.body ?? new Uint8Array(0);
  const headers: Record<string, string> = {
    "content-length": String(body.length),
    "user-agent": r.userAgent ?? UA,
    te: "",
    host: u.host,
    accept: "application/vnd.hex+erlang",
    connection: r.connection ?? (r.expectContinue ? "close" : "keep-alive"),
  };
  if (r.key !== null) headers.authorization = r.key ?? KEY;
  if (r.body !== undefined) headers["content-type"] = r.contentType ?? "application/octet-stream";
  if (r.expectContinue) headers.expect = "100-continue";
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: r.method ?? "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const etf = String(res.headers["content-type"] ?? "").includes("application/vnd.hex+erlang");
        resolve({ status: res.statusCode!, headers: res.headers, body: bytes, term: etf && bytes.length > 0 ? decodeEtf(bytes) : undefined, continued });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (r.expectContinue) {
      req.on("continue", () => {
        continued = true;
        req.end(body);
      });
      req.flushHeaders();
    } else {
      req.end(body);
    }
  });
}

/** A gzip'd docs tarball from path → text (as `mix hex.publish docs` builds it). */
export function docsTarball(files: Record<string, string>, extra: Parameters<typeof writeTar>[0] = []): Buffer {
  const entries = Object.entries(files).map(([p, text]) => ({ path: p, type: "file" as const, mode: 0o644, data: new TextEncoder().encode(text) }));
  return gzipSync(writeTar([...entries, ...extra]));
}

export const hex = (s: string) => Buffer.from(s, "hex");
