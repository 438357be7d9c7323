import type { IncomingMessage } from "node:http";
import { createGunzip } from "node:zlib";
import type { Logger } from "pino";
import { mixDep, rebarDep, suggestedVersion } from "../hex/dep-snippet.js";
import { readTar } from "../julia/tar-reader.js";
import { readRegistryToml, readVersionsToml } from "../julia/registry-toml.js";
import type { Store } from "../store/store.js";
import type { RequestState, ResourceSource } from "./app.js";
import type { AccessControl } from "./access.js";
import { withFlavours } from "./browse-flavors.js";
import { withPublishing } from "./browse-publish.js";
import { withMirrored } from "./browse-mirrored.js";
import { HexDescriptions, loadHexPackage, renderHexPackage } from "./browse-hex.js";
import { esc, page, snippet } from "./browse-html.js";
import { loadJuliaPackage, renderJuliaPackage } from "./browse-julia.js";
import { HttpError } from "./http-error.js";
import { bufferEntity, header, type Entity } from "./entity.js";
import type { Resource } from "./resource-path.js";

const MAX_LISTED_REGISTRY_BYTES = 64 * 1024 * 1024;
const REGISTRY_LINE = /^\/registry\/([0-9a-f-]{36})\/([0-9a-f]{40})$/;

interface RegistrySummary {
  uuid: string;
  hash: string;
  name?: string;
  packages: Array<{ name: string; uuid: string; path: string; versions: string[] }>;
  note?: string;
}

interface RepoSummary {
  name: string;
  publicKey?: string;
  packages: Map<string, string[]>;
  /** Package name → description of its suggested release (from the tarball's metadata.config). */
  descriptions: Map<string, string>;
  /** Tarball file name → etag, from the listing. */
  etags: Map<string, string>;
}

export interface BrowseOptions {
  store: Store;
  access: AccessControl;
  mirrors: Array<{ name: string; upstream: string }>;
  juliaUpstream?: string;
  log: Logger;
  /** Repositories with a Hex API write door: the page shows how to publish to them. */
  publishRepos?: string[];
}

/**
 * The browse pages: "/" (what the store holds, with the client setup to copy for each registry
 * and repository), "/?q=" (search over package names and Hex descriptions) and
 * "/browse/hex|julia/…" (one package: browse-hex.ts, browse-julia.ts). Server-rendered;
 * the only script adds copy buttons; everything interpolated is escaped. Each reader sees
 * only what their token may read. Registry tarballs are content-addressed, so their parsed
 * listing is kept for the process's life.
 */
export class BrowsePage implements ResourceSource {
  readonly kinds = new Set<Resource["kind"]>(["index", "browse"]);
  private readonly registryCache = new Map<string, RegistrySummary>();
  private readonly descriptions: HexDescriptions;

  constructor(private readonly options: BrowseOptions) {
    this.descriptions = new HexDescriptions(options.store);
  }

  async entity(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    if (resource.kind !== "index" && resource.kind !== "browse") return null;
    state.source = "page";
    const grant = this.options.access.grantOf(req);
    const can = (path: string) => this.options.access.canRead(grant, path);
    const base = baseUrl(req);
    const query = queryOf(req);
    const html = (text: string) => bufferEntity(text, "text/html; charset=utf-8", "no-cache");
    if (resource.kind === "browse") return html(await this.packagePage(resource, base, query.get("v")));
    const registries = can("/registries") ? await this.registries() : [];
    const repos = (await this.repos()).filter((r) => can(`/repos/${r.name}`));
    const q = (query.get("q") ?? "").trim().slice(0, 200);
    if (q) return html(renderSearch(base, q, registries, repos));
    const mirrors = this.options.mirrors.filter((m) => can(`/repos/${m.name}`));
    const text = render({ base, registries, repos, mirrors, juliaUpstream: this.options.juliaUpstream, tokens: this.options.access.enabled });
    const withHooks = withPublishing(await withMirrored(text, this.options.store, can), this.options.publishRepos, base, can);
    return html(await withFlavours(withHooks, this.options.store, can));
  }

  /** Access was checked by the route (browseReadPath); what is not there is a 404. */
  private async packagePage(r: Extract<Resource, { kind: "browse" }>, base: string, version: string | null): Promise<string> {
    if (r.ecosystem === "hex") {
      const view = await loadHexPackage(this.options.store, this.descriptions, r.scope, r.name);
      if (!view) throw new HttpError(404, `no package ${r.name} in Hex repository ${r.scope}`);
      return renderHexPackage(view, base, version, this.options.access.enabled);
    }
    const registry = (await this.registries()).find((x) => x.uuid === r.scope);
    const entry = registry?.packages.find((p) => p.name === r.name);
    if (!registry || !entry) throw new HttpError(404, `no package ${r.name} in registry ${r.scope}`);
    const view = await loadJuliaPackage(this.options.store, registry, entry.path);
    if (!view) throw new HttpError(404, `no package ${r.name} in registry ${r.scope}`);
    return renderJuliaPackage(view, base, version, new Map(registry.packages.map((p) => [p.uuid, p.name])));
  }

  private async registries(): Promise<RegistrySummary[]> {
    const obj = await this.options.store.get("registries");
    if (!obj) return [];
    const text = (await collect(obj.body)).toString("utf8");
    const out: RegistrySummary[] = [];
    for (const line of text.split("\n")) {
      const m = REGISTRY_LINE.exec(line.trim());
      if (!m) continue;
      out.push(await this.registry(m[1]!, m[2]!));
    }
    return out;
  }

  private async registry(uuid: string, hash: string): Promise<RegistrySummary> {
    const key = `registry/${uuid}/${hash}`;
    const known = this.registryCache.get(key);
    if (known) return known;
    const summary: RegistrySummary = { uuid, hash, packages: [] };
    try {
      const info = await this.options.store.head(key);
      if (!info) summary.note = "registry tarball missing from the store";
      else if (info.size > MAX_LISTED_REGISTRY_BYTES) summary.note = "too large to list here";
      else {
        const obj = await this.options.store.get(key);
        if (obj) Object.assign(summary, await summarize(obj.body));
      }
    } catch (err) {
      summary.note = "could not be read (logged)";
      this.options.log.warn({ key, err: (err as Error).message }, "browse page: registry tarball unreadable");
    }
    this.registryCache.set(key, summary);
    return summary;
  }

  private async repos(): Promise<RepoSummary[]> {
    const repos = new Map<string, RepoSummary>();
    const repo = (name: string) => {
      let r = repos.get(name);
      if (!r) repos.set(name, (r = { name, packages: new Map(), descriptions: new Map(), etags: new Map() }));
      return r;
    };
    for await (const { key, etag } of this.options.store.list("repos/")) {
      const parts = key.split("/");
      if (parts.length === 3 && parts[2] === "public_key") repo(parts[1]!);
      if (parts.length === 4 && parts[2] === "packages") {
        const r = repo(parts[1]!);
        if (!r.packages.has(parts[3]!)) r.packages.set(parts[3]!, []);
      }
      if (parts.length === 4 && parts[2] === "tarballs") {
        const m = /^([a-z][a-z0-9_]*)-(.+)\.tar$/.exec(parts[3]!);
        if (!m) continue;
        const r = repo(parts[1]!);
        r.etags.set(parts[3]!, etag);
        const list = r.packages.get(m[1]!) ?? [];
        list.push(m[2]!);
        r.packages.set(m[1]!, list);
      }
    }
    for (const r of repos.values()) {
      const obj = await this.options.store.get(`repos/${r.name}/public_key`);
      if (obj) r.publicKey = (await collect(obj.body)).toString("utf8").trim();
      for (const [name, versions] of r.packages) {
        const v = suggestedVersion(versions);
        if (v) r.descriptions.set(name, await this.descriptions.of(r.name, name, v, r.etags.get(`${name}-${v}.tar`)));
      }
    }
    return [...repos.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}

async function summarize(body: AsyncIterable<Uint8Array>): Promise<Partial<RegistrySummary>> {
  const gunzip = createGunzip();
  (body as NodeJS.ReadableStream).pipe(gunzip);
  try {
    return await summarizeTar(gunzip);
  } finally {
    gunzip.destroy();
    (body as unknown as { destroy(): void }).destroy();
  }
}

async function summarizeTar(tar: AsyncIterable<Uint8Array>): Promise<Partial<RegistrySummary>> {
  let registryToml: string | undefined;
  const versions = new Map<string, string[]>();
  for await (const { member, body: memberBody } of readTar(tar)) {
    const p = member.parts.join("/");
    if (member.type !== "file" || member.size > 4 * 1024 * 1024) continue;
    if (p === "Registry.toml") registryToml = (await collect(memberBody)).toString("utf8");
    else if (member.parts[member.parts.length - 1] === "Versions.toml") {
      const dir = member.parts.slice(0, -1).join("/");
      const text = (await collect(memberBody)).toString("utf8");
      versions.set(dir, readVersionsToml(text, `${p}`).filter((v) => !v.yanked).map((v) => v.version));
    }
  }
  if (registryToml === undefined) return { note: "no Registry.toml in the tarball" };
  const info = readRegistryToml(registryToml);
  return {
    name: info.name,
    packages: info.packages
      .map((p) => ({ name: p.name, uuid: p.uuid, path: p.path, versions: sortVersions(versions.get(p.path) ?? []) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}

function sortVersions(vs: string[]): string[] {
  const key = (v: string) => v.split(/[.+-]/).map((x) => (/^\d+$/.test(x) ? x.padStart(10, "0") : x)).join(".");
  return [...vs].sort((a, b) => (key(a) < key(b) ? 1 : -1));
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

function baseUrl(req: IncomingMessage): string {
  const host = header(req, "host") ?? "localhost";
  // The Host header is the client's word; keep it to what a host[:port] can be.
  const safe = /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? host : "localhost";
  return `http://${safe}`;
}

/** The query string, bounded: the parser ignores it, the pages read ?q= and ?v= from it. */
function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? "";
  const i = url.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : url.slice(i + 1, i + 1 + 1024));
}

interface PageModel {
  base: string;
  registries: RegistrySummary[];
  repos: RepoSummary[];
  mirrors: Array<{ name: string; upstream: string }>;
  juliaUpstream?: string;
  tokens: boolean;
}

const pkgLink = (href: string, name: string) => `<a href="${esc(href)}"><code>${esc(name)}</code></a>`;

function render(m: PageModel): string {
  const out: string[] = [];
  const host = m.base.replace(/^https?:\/\//, "").replace(/[:/<>"\\|?*]/g, "_");

  out.push(`<h2 id="julia">Julia registries</h2>`);
  out.push(`<p>Point Julia at this server, then add a registry:</p>`, snippet(`export JULIA_PKG_SERVER=${m.base}`));
  if (m.tokens) {
    out.push(`<p>This server asks for a token: put it in <code>~/.julia/servers/${esc(host)}/auth.toml</code> as <code>access_token = "…"</code>.</p>`);
  }
  if (m.juliaUpstream) out.push(`<p class="muted">Registries and packages not held here come from <code>${esc(m.juliaUpstream)}</code>.</p>`);
  if (m.registries.length === 0) out.push(`<p class="muted">No registries published to this store.</p>`);
  for (const r of m.registries) {
    out.push(`<h3>${esc(r.name ?? "registry")} <span class="muted"><code>${esc(r.uuid)}</code></span></h3>`);
    // Pkg turns no registry name but General into a UUID, so these are the forms that work.
    out.push(snippet(`pkg> registry add ${r.uuid}`));
    out.push(`<p class="muted">Julia 1.4 or newer; in a script: <code>julia -e 'using Pkg; Pkg.Registry.add(Pkg.RegistrySpec(uuid = "${esc(r.uuid)}"))'</code>. On Julia 1.5 or newer, <code>pkg&gt; registry add</code> with no argument adds every registry this server lists.</p>`);
    const count = r.packages.length;
    // data-registry anchors the flavour note (browse-flavors.ts) under this registry.
    out.push(`<p class="muted" data-registry="${esc(r.uuid)}">${count} package${count === 1 ? "" : "s"}${r.note ? ` — ${esc(r.note)}` : ""}</p>`);
    if (count > 0) {
      out.push(`<table><thead><tr><th>package</th><th>newest</th><th>versions</th></tr></thead><tbody>`);
      for (const p of r.packages) {
        out.push(`<tr><td>${pkgLink(`/browse/julia/${r.uuid}/${p.name}`, p.name)}</td><td>${esc(p.versions[0] ?? "")}</td><td>${p.versions.map((v) => esc(v)).join(", ") || '<span class="muted">none</span>'}</td></tr>`);
      }
      out.push(`</tbody></table>`);
    }
  }

  out.push(`<h2 id="hex">Hex repositories</h2>`);
  if (m.repos.length === 0) out.push(`<p class="muted">No Hex repositories published to this store.</p>`);
  for (const r of m.repos) {
    const url = `${m.base}/repos/${r.name}`;
    out.push(`<h3 id="repo-${esc(r.name)}">${esc(r.name)}</h3>`);
    out.push(`<p>mix:</p>`, snippet(`curl -fsS -o ${r.name}.pem ${url}/public_key
mix hex.repo add ${r.name} ${url} --public-key ${r.name}.pem${m.tokens ? " --auth-key YOUR_TOKEN" : ""}`));
    const example = [...r.packages].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, vs]) => [n, suggestedVersion(vs)] as const).find(([, v]) => v);
    if (example) {
      out.push(`<p>and in <code>mix.exs</code>: <code>${esc(mixDep(example[0], example[1]!, r.name))}</code>; in <code>rebar.config</code>: <code>{deps, [${esc(rebarDep(example[0], example[1]!))}]}.</code></p>`);
    }
    out.push(`<p>rebar3 (<code>~/.config/rebar3/rebar.config</code>):</p>`, snippet(`{hex, [{repos, [#{name => <<"${r.name}">>,
            repo_url => <<"${url}">>,${m.tokens ? `\n            repo_key => <<"YOUR_TOKEN">>,` : ""}
            repo_public_key => <<"${r.publicKey ?? "(no public_key published)"}">>}]}]}.`));
    if (r.packages.size > 0) {
      out.push(`<table><thead><tr><th>package</th><th>newest</th><th>description</th><th>versions</th></tr></thead><tbody>`);
      for (const [name, versions] of [...r.packages].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const sorted = sortVersions(versions);
        out.push(`<tr><td>${pkgLink(`/browse/hex/${r.name}/${name}`, name)}</td><td>${esc(suggestedVersion(versions) ?? "")}</td><td>${esc(r.descriptions.get(name) ?? "")}</td><td>${sorted.map((v) => esc(v)).join(", ") || '<span class="muted">none</span>'}</td></tr>`);
      }
      out.push(`</tbody></table>`);
    }
  }
  if (m.mirrors.length > 0) {
    out.push(`<h2 id="mirrors">Hex mirrors</h2>`);
    for (const mirror of m.mirrors) {
      const url = `${m.base}/repos/${mirror.name}`;
      out.push(`<h3>${esc(mirror.name)} <span class="muted">of ${esc(mirror.upstream)}</span></h3>`);
      out.push(snippet(`HEX_MIRROR_URL=${url} mix deps.get
HEX_CDN=${url} rebar3 get-deps`));
    }
  }
  return page(`pkgpub — ${m.base}`, m.base, out.join("\n"));
}

/** Packages whose name or description holds every word of the query, case-insensitively. */
function renderSearch(base: string, q: string, registries: RegistrySummary[], repos: RepoSummary[]): string {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const hit = (...fields: string[]) => words.every((w) => fields.some((f) => f.toLowerCase().includes(w)));
  const rows: string[] = [];
  for (const r of registries) {
    for (const p of r.packages) {
      if (hit(p.name)) rows.push(`<tr><td>${pkgLink(`/browse/julia/${r.uuid}/${p.name}`, p.name)}</td><td>Julia, ${esc(r.name ?? r.uuid)}</td><td>${esc(p.versions[0] ?? "")}</td><td></td></tr>`);
    }
  }
  for (const r of repos) {
    for (const [name, versions] of [...r.packages].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const description = r.descriptions.get(name) ?? "";
      if (hit(name, description)) rows.push(`<tr><td>${pkgLink(`/browse/hex/${r.name}/${name}`, name)}</td><td>Hex, ${esc(r.name)}</td><td>${esc(suggestedVersion(versions) ?? "")}</td><td>${esc(description)}</td></tr>`);
    }
  }
  const body = [`<h2>Search: ${esc(q)}</h2>`];
  if (rows.length === 0) body.push(`<p class="muted">No package matches <code>${esc(q)}</code>. <a href="/">All packages</a></p>`);
  else {
    body.push(`<p class="muted">${rows.length} package${rows.length === 1 ? "" : "s"}</p>`);
    body.push(`<table><thead><tr><th>package</th><th>where</th><th>newest</th><th>description</th></tr></thead><tbody>${rows.join("")}</tbody></table>`);
  }
  return page(`Search ${q} — pkgpub`, base, body.join("\n"), q);
}
