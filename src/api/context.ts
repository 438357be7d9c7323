/**
 * What every API handler gets: the store, the repositories that take writes (with their signing
 * keys), the token check, and one request's addressing (repository, route segments, base URL).
 */
import type { KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { buffer } from "node:stream/consumers";
import { openVersions } from "../hex/registry.js";
import type { Versions } from "../hex/messages.js";
import { readHexTarball, type HexTarball } from "../hex/tarball.js";
import { HexRepository } from "../publish/hex-repository.js";
import type { Store } from "../store/store.js";
import type { ApiAuth } from "./auth.js";
import type { WriteQueue } from "./write-queue.js";

export interface PublishRepo {
  repo: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface ApiContext {
  store: Store;
  repos: Map<string, PublishRepo>;
  auth: ApiAuth;
  /** Serialises this server's writes per repository. */
  writes: WriteQueue;
  log: (line: string) => void;
}

/** One request, after routing. */
export interface Call {
  ctx: ApiContext;
  req: IncomingMessage;
  res: ServerResponse;
  /** The repository the path names (already checked to take writes here). */
  repo: PublishRepo;
  query: URLSearchParams;
  /** e.g. http://host:port, from the Host header. */
  base: string;
  /** Set once the caller is known, for the request log (never the key). */
  state: { tokenName?: string };
}

export const repositoryOf = (call: Call) => new HexRepository(call.ctx.store, call.repo.repo, call.repo.privateKey, call.repo.publicKey, call.ctx.log);

export const apiUrl = (call: Call, ...path: string[]) => `${call.base}/api/repos/${call.repo.repo}/${path.map(encodeURIComponent).join("/")}`;

/** The signed versions index, checked with the repository's key; null when nothing is published yet. */
export async function readVersions(call: Call): Promise<Versions | null> {
  const key = `repos/${call.repo.repo}/versions`;
  const obj = await call.ctx.store.get(key);
  if (!obj) return null;
  return openVersions(await buffer(obj.body), call.repo.publicKey, call.repo.repo, key);
}

/** A release's tarball as stored (for its metadata); null when it is not there or unreadable. */
export async function readTarball(call: Call, name: string, version: string): Promise<HexTarball | null> {
  const key = `repos/${call.repo.repo}/tarballs/${name}-${version}.tar`;
  const obj = await call.ctx.store.get(key);
  if (!obj) return null;
  try {
    return readHexTarball(await buffer(obj.body), key);
  } catch {
    return null;
  }
}

export function baseUrl(req: IncomingMessage): string {
  const host = String(req.headers.host ?? "localhost");
  // The Host header is the client's word; keep it to what a host[:port] can be.
  return `http://${/^[A-Za-z0-9.\-[\]:]+$/.test(host) ? host : "localhost"}`;
}
