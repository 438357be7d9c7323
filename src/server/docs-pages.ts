/**
 * /docs/<repo>/<name>/<version>/<file>: one member of a release's docs tarball (uploaded with
 * `mix hex.publish docs`), unpacked in memory with the upload's own checks. Docs are package
 * authors' HTML, so every page goes out sandboxed (Content-Security-Policy: sandbox, no
 * scripts reaching this origin's cookies or the API) and never sniffed. /docs/<repo>/<name>/
 * redirects to the newest version that has docs.
 */
import type { IncomingMessage } from "node:http";
import { buffer } from "node:stream/consumers";
import { DocsTarballError, readDocsTarball, type DocsTarball } from "../hex/docs-tarball.js";
import { compareSemVer } from "../hex/semver.js";
import type { Store } from "../store/store.js";
import type { RequestState, ResourceSource } from "./app.js";
import { bufferEntity, type Entity } from "./entity.js";
import { HttpError } from "./http-error.js";
import type { Resource } from "./resource-path.js";

/** Unpacked tarballs kept, by key and etag (a replaced upload has another etag), up to this many bytes. */
const CACHE_BYTES = 64 * 1024 * 1024;

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  txt: "text/plain; charset=utf-8",
  md: "text/plain; charset=utf-8",
  epub: "application/epub+zip",
};

/** Scripts may run (ex_doc's search and sidebar need them) but in an opaque origin: no cookies, no same-origin requests to the API. */
export const DOCS_HEADERS = {
  "Content-Security-Policy": "sandbox allow-scripts allow-popups allow-forms; default-src 'self' 'unsafe-inline' data:; connect-src 'none'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

export class DocsPages implements ResourceSource {
  readonly kinds = new Set<Resource["kind"]>(["docs"]);
  private readonly cache = new Map<string, { docs: DocsTarball; size: number }>();
  private cached = 0;

  constructor(private readonly store: Store) {}

  async entity(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    if (resource.kind !== "docs") return null;
    state.source = "docs";
    const base = `/docs/${resource.repo}/${resource.name}`;
    if (resource.version === undefined) {
      const newest = await this.newestVersion(resource.repo, resource.name);
      if (!newest) throw new HttpError(404, `no docs for ${resource.name} in repository ${resource.repo}`);
      throw new HttpError(302, `see ${base}/${newest}/`, { Location: `${base}/${newest}/` });
    }
    if (resource.file === undefined) throw new HttpError(301, `see ${base}/${resource.version}/`, { Location: `${base}/${resource.version}/` });
    const key = `repos/${resource.repo}/docs/${resource.name}-${resource.version}.tar.gz`;
    const docs = await this.open(key);
    if (!docs) throw new HttpError(404, `no docs for ${resource.name} ${resource.version} in repository ${resource.repo}`);
    const data = docs.files.get(resource.file) ?? (docs.files.has(`${resource.file}/index.html`) ? null : undefined);
    if (data === null) throw new HttpError(301, `see ${resource.file}/`, { Location: `${base}/${resource.version}/${resource.file}/` });
    if (data === undefined) throw new HttpError(404, `${resource.file} is not in the docs of ${resource.name} ${resource.version}`);
    const ext = /\.([A-Za-z0-9]+)$/.exec(resource.file)?.[1]?.toLowerCase() ?? "";
    return bufferEntity(Buffer.from(data), TYPES[ext] ?? "application/octet-stream", "no-cache", DOCS_HEADERS);
  }

  private async newestVersion(repo: string, name: string): Promise<string | null> {
    const prefix = `repos/${repo}/docs/${name}-`;
    let newest: string | null = null;
    for await (const e of this.store.list(prefix)) {
      if (!e.key.endsWith(".tar.gz")) continue;
      const v = e.key.slice(prefix.length, -".tar.gz".length);
      if (!/^\d+\.\d+\.\d+/.test(v)) continue;
      if (newest === null || compareSemVer(v, newest) > 0) newest = v;
    }
    return newest;
  }

  private async open(key: string): Promise<DocsTarball | null> {
    const obj = await this.store.get(key);
    if (!obj) return null;
    const id = `${key} ${obj.etag}`;
    const known = this.cache.get(id);
    if (known) {
      obj.body.destroy();
      // Most recently used last.
      this.cache.delete(id);
      this.cache.set(id, known);
      return known.docs;
    }
    let docs: DocsTarball;
    try {
      docs = readDocsTarball(await buffer(obj.body), key);
    } catch (err) {
      if (err instanceof DocsTarballError) throw new HttpError(502, `${key} in the store is not a valid docs tarball`);
      throw err;
    }
    let size = 0;
    for (const f of docs.files.values()) size += f.length;
    if (size <= CACHE_BYTES) {
      this.cache.set(id, { docs, size });
      this.cached += size;
      while (this.cached > CACHE_BYTES) {
        const [oldest, entry] = this.cache.entries().next().value!;
        this.cache.delete(oldest);
        this.cached -= entry.size;
      }
    }
    return docs;
  }
}
