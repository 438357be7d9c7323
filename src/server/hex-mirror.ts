import { createHash, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { openNames, openPackage, openVersions } from "../hex/registry.js";
import { parsePublicKey } from "../hex/signing.js";
import type { Package } from "../hex/messages.js";
import type { RequestState, ResourceSource } from "./app.js";
import type { HexMirrorConfig } from "./config.js";
import type { DiskCache } from "./disk-cache.js";
import { contentEtag, type Entity } from "./entity.js";
import { fanOut } from "./fan-out.js";
import { HttpError } from "./http-error.js";
import type { Metrics } from "./metrics.js";
import { storeKey, type HexResource, type Resource } from "./resource-path.js";
import { storeEntity } from "./store-entity.js";
import { readUpstreamBody, type Upstream } from "./upstream.js";

const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;
const MAX_TARBALL_BYTES = 64 * 1024 * 1024;

interface RegistryMeta {
  /** Our strong tag for the cached bytes (their SHA-256). */
  etag: string;
  upstreamEtag?: string;
  fetchedAt: number;
}

/**
 * A read-through mirror of a Hex repository (repo.hex.pm): the upstream's signed bytes go to
 * clients unchanged, registry resources are reused for a short TTL and then revalidated, and a
 * tarball enters the cache (and reaches a client) only when its SHA-256 is the outer checksum
 * in the upstream's signed package resource, verified with the upstream's key.
 */
export class HexMirror implements ResourceSource {
  readonly kinds = new Set<Resource["kind"]>(["hex"]);
  private readonly key: KeyObject;
  private readonly meta = new Map<string, RegistryMeta>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly allow: Set<string> | null;

  constructor(
    readonly config: HexMirrorConfig,
    private readonly upstream: Upstream,
    private readonly cache: DiskCache,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.key = parsePublicKey(config.publicKey, `hex_mirror ${config.name} public key`);
    this.allow = config.allow ? new Set(config.allow) : null;
  }

  async entity(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    if (resource.kind !== "hex" || resource.repo !== this.config.name) return null;
    const r = resource.resource;
    // Docs are not signed: nothing here could verify them, so a mirror does not pass them on.
    if (r.kind === "docs") throw new HttpError(404, "docs are not mirrored");
    if ((r.kind === "package" || r.kind === "tarball") && this.allow && !this.allow.has(r.name)) {
      throw new HttpError(404, `${r.name} is not on this mirror's allow-list`);
    }
    const key = storeKey(resource)!;
    if (r.kind === "tarball") return this.tarball(key, r.name, r.version, req, state);
    return this.registry(key, r, req, state);
  }

  /** A registry resource (names, versions, packages/<name>, public_key): fresh, revalidated, or stale. */
  private async registry(key: string, r: HexResource, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    const ok = await this.freshRegistry(key, r, state);
    if (!ok) return null;
    const meta = this.meta.get(key)!;
    const contentType = r.kind === "public_key" ? "application/x-pem-file" : r.kind === "installs" ? "text/plain; charset=utf-8" : "application/octet-stream";
    const e = await storeEntity(this.cache.reader, key, req, { contentType, cacheControl: "public, max-age=60" });
    if (!e) throw new HttpError(502, `mirror cache lost ${key}; retry`);
    this.cache.touch(key);
    return { ...e, etag: meta.etag, open: async (range) => (await e.open(range)) as Readable };
  }

  /** Makes sure the cache holds a verified, recent enough copy; false if the upstream has none. */
  private async freshRegistry(key: string, r: HexResource, state: RequestState): Promise<boolean> {
    const meta = this.meta.get(key);
    const cached = meta !== undefined && this.cache.has(key);
    if (cached && Date.now() - meta.fetchedAt < this.config.registryTtl * 1000) {
      state.source = "cache";
      this.metrics.cacheResult(this.config.name, "hit");
      return true;
    }
    return (await this.once(key, async () => {
      const headers: Record<string, string> = {};
      if (cached && meta.upstreamEtag) headers["if-none-match"] = meta.upstreamEtag;
      let res;
      try {
        res = await this.upstream.get(relativeKey(key), headers);
      } catch (err) {
        if (cached) {
          // Upstream down or slow: the last verified copy is better than nothing.
          state.source = "stale";
          this.metrics.cacheResult(this.config.name, "stale");
          this.log.warn({ upstream: this.upstream.origin, key, err: (err as Error).message }, "upstream unavailable; serving the cached copy");
          return true;
        }
        throw err;
      }
      if (res.status === 304 && cached) {
        meta.fetchedAt = Date.now();
        state.source = "revalidated";
        this.metrics.cacheResult(this.config.name, "hit");
        return true;
      }
      if (res.status === 404 || res.status === 403 || res.status === 410) {
        res.body?.destroy();
        if (cached) await this.cache.remove(key);
        this.meta.delete(key);
        return false;
      }
      if (res.status !== 200 || !res.body) {
        res.body?.destroy();
        throw new HttpError(502, `upstream ${this.upstream.origin} answered ${res.status} for ${relativeKey(key)}`);
      }
      this.metrics.cacheResult(this.config.name, "miss");
      state.source = "miss";
      const bytes = await readUpstreamBody(res.body, MAX_REGISTRY_BYTES);
      this.verifyRegistry(r, bytes);
      const temp = this.cache.tempPath();
      await writeFile(temp, bytes, { flag: "wx" });
      await this.cache.commit(key, temp);
      const upstreamEtag = typeof res.headers.etag === "string" ? res.headers.etag : undefined;
      this.meta.set(key, { etag: contentEtag(bytes), upstreamEtag, fetchedAt: Date.now() });
      return true;
    })) as boolean;
  }

  private verifyRegistry(r: HexResource, bytes: Uint8Array): void {
    const what = `upstream ${this.upstream.origin} ${r.kind === "package" ? `packages/${r.name}` : r.kind}`;
    try {
      if (r.kind === "names") openNames(bytes, this.key, this.config.repository, what);
      else if (r.kind === "versions") openVersions(bytes, this.key, this.config.repository, what);
      else if (r.kind === "package") openPackage(bytes, this.key, this.config.repository, r.name, what);
    } catch (err) {
      this.metrics.cacheResult(this.config.name, "rejected");
      this.log.warn({ upstream: this.upstream.origin, err: (err as Error).message }, "upstream registry resource failed verification");
      throw new HttpError(502, `${(err as Error).message}; not served`);
    }
  }

  /** The verified package resource (from the cache when fresh). */
  private async signedPackage(name: string, state: RequestState): Promise<Package | null> {
    const key = `repos/${this.config.name}/packages/${name}`;
    const sub: RequestState = { route: state.route };
    if (!(await this.freshRegistry(key, { kind: "package", name }, sub))) return null;
    const obj = await this.cache.reader.get(key);
    if (!obj) return null;
    const bytes = await readUpstreamBody(obj.body, MAX_REGISTRY_BYTES);
    return openPackage(bytes, this.key, this.config.repository, name, `packages/${name}`);
  }

  private async tarball(key: string, name: string, version: string, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    const look = { contentType: "application/octet-stream", cacheControl: "public, max-age=3600" };
    if (this.cache.has(key)) {
      const e = await storeEntity(this.cache.reader, key, req, look);
      if (e) {
        this.cache.touch(key);
        state.source = "cache";
        this.metrics.cacheResult(this.config.name, "hit");
        return e;
      }
    }
    const found = (await this.once(key, async () => {
      const pkg = await this.signedPackage(name, state);
      const release = pkg?.releases.find((rel) => rel.version === version);
      if (!release) return false;
      const expected = Buffer.from(release.outerChecksum).toString("hex");
      this.metrics.cacheResult(this.config.name, "miss");
      state.source = "miss";
      const res = await this.upstream.get(relativeKey(key));
      if (res.status === 404 || res.status === 403) {
        res.body?.destroy();
        return false;
      }
      if (res.status !== 200 || !res.body) {
        res.body?.destroy();
        throw new HttpError(502, `upstream ${this.upstream.origin} answered ${res.status} for ${relativeKey(key)}`);
      }
      const temp = this.cache.temp();
      const hash = createHash("sha256");
      let size = 0;
      res.body.on("data", (c: Buffer) => {
        size += c.length;
        hash.update(c);
        if (size > MAX_TARBALL_BYTES) res.body!.destroy(new Error(`tarball larger than ${MAX_TARBALL_BYTES} bytes`));
      });
      try {
        await fanOut(res.body, [{ stream: temp.stream, optional: false }]);
      } catch (err) {
        await this.cache.discard(temp.file);
        throw new HttpError(502, `download of ${relativeKey(key)} from ${this.upstream.origin} failed: ${(err as Error).message}`);
      }
      const actual = hash.digest("hex");
      if (actual !== expected) {
        await this.cache.discard(temp.file);
        this.metrics.cacheResult(this.config.name, "rejected");
        this.log.warn({ upstream: this.upstream.origin, key, expected, actual }, "upstream tarball does not match its signed outer checksum");
        throw new HttpError(502, `${name}-${version}.tar from ${this.upstream.origin} does not match the outer checksum in its signed package; not served`);
      }
      await this.cache.commit(key, temp.file);
      return true;
    })) as boolean;
    if (!found) return null;
    return storeEntity(this.cache.reader, key, req, look);
  }

  /** One upstream round trip per key at a time; concurrent callers share its result. */
  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key);
    if (pending) return pending as Promise<T>;
    const p = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

/** "repos/hexpm/packages/jason" → "packages/jason": the path below the upstream's base URL. */
function relativeKey(key: string): string {
  return key.split("/").slice(2).join("/");
}

