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
import { bufferEntity, header, type Entity } from "./entity.js";
import type { Resource } from "./resource-path.js";

const MAX_LISTED_REGISTRY_BYTES = 64 * 1024 * 1024;
const REGISTRY_LINE = /^\/registry\/([0-9a-f-]{36})\/([0-9a-f]{40})$/;

interface RegistrySummary {
  uuid: string;
  hash: string;
  name?: string;
  packages: Array<{ name: string; uuid: string; versions: string[] }>;
  note?: string;
}

interface RepoSummary {
  name: string;
  publicKey?: string;
  packages: Map<string, string[]>;
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
 * The page at "/": what the store holds, with the client setup to copy for each registry and
 * repository. Server-rendered, no script; everything interpolated is escaped. Registry
 * tarballs are content-addressed, so their parsed listing is kept for the process's life.
 */
export class BrowsePage implements ResourceSource {
  private readonly registryCache = new Map<string, RegistrySummary>();

  constructor(private readonly options: BrowseOptions) {}

  async entity(resource: Resource, req: IncomingMessage, state: RequestState): Promise<Entity | null> {
    if (resource.kind !== "index") return null;
    state.source = "page";
    const grant = this.options.access.grantOf(req);
    const can = (path: string) => this.options.access.canRead(grant, path);
    const base = baseUrl(req);
    const registries = can("/registries") ? await this.registries() : [];
    const repos = (await this.repos()).filter((r) => can(`/repos/${r.name}`));
    const mirrors = this.options.mirrors.filter((m) => can(`/repos/${m.name}`));
    const html = render({ base, registries, repos, mirrors, juliaUpstream: this.options.juliaUpstream, tokens: this.options.access.enabled });
    const withHooks = withPublishing(await withMirrored(html, this.options.store, can), this.options.publishRepos, base, can);
    return bufferEntity(await withFlavours(withHooks, this.options.store, can), "text/html; charset=utf-8", "no-cache");
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
      if (!r) repos.set(name, (r = { name, packages: new Map() }));
      return r;
    };
    for await (const { key } of this.options.store.list("repos/")) {
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
        const list = r.packages.get(m[1]!) ?? [];
        list.push(m[2]!);
        r.packages.set(m[1]!, list);
      }
    }
    for (const r of repos.values()) {
      const obj = await this.options.store.get(`repos/${r.name}/public_key`);
      if (obj) r.publicKey = (await collect(obj.body)).toString("utf8").trim();
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
      .map((p) => ({ name: p.name, uuid: p.uuid, versions: sortVersions(versions.get(p.path) ?? []) }))
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

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

interface PageModel {
  base: string;
  registries: RegistrySummary[];
  repos: RepoSummary[];
  mirrors: Array<{ name: string; upstream: string }>;
  juliaUpstream?: string;
  tokens: boolean;
}

function render(m: PageModel): string {
  const out: string[] = [];
  const host = m.base.replace(/^https?:\/\//, "").replace(/[:/<>"\\|?*]/g, "_");
  out.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pkgpub — ${esc(m.base)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}h3{margin-bottom:.3rem}
pre{background:#f5f5f5;padding:.6rem .8rem;overflow-x:auto;border-radius:4px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #eee;vertical-align:top}
code{font-size:.9em}.muted{color:#666}
</style></head><body>
<h1>pkgpub</h1>
<p class="muted">A read-only package server for Julia and Hex clients at <code>${esc(m.base)}</code>.</p>`);

  out.push(`<h2 id="julia">Julia registries</h2>`);
  out.push(`<p>Point Julia at this server, then add a registry:</p><pre>export JULIA_PKG_SERVER=${esc(m.base)}</pre>`);
  if (m.tokens) {
    out.push(`<p>This server asks for a token: put it in <code>~/.julia/servers/${esc(host)}/auth.toml</code> as <code>access_token = "…"</code>.</p>`);
  }
  if (m.juliaUpstream) out.push(`<p class="muted">Registries and packages not held here come from <code>${esc(m.juliaUpstream)}</code>.</p>`);
  if (m.registries.length === 0) out.push(`<p class="muted">No registries published to this store.</p>`);
  for (const r of m.registries) {
    out.push(`<h3>${esc(r.name ?? "registry")} <span class="muted"><code>${esc(r.uuid)}</code></span></h3>`);
    // Pkg turns no registry name but General into a UUID, so these are the forms that work.
    out.push(`<pre>pkg&gt; registry add ${esc(r.uuid)}</pre>`);
    out.push(`<p class="muted">Julia 1.4 or newer; in a script: <code>julia -e 'using Pkg; Pkg.Registry.add(Pkg.RegistrySpec(uuid = "${esc(r.uuid)}"))'</code>. On Julia 1.5 or newer, <code>pkg&gt; registry add</code> with no argument adds every registry this server lists.</p>`);
    out.push(`<p class="muted">Tree <code>${esc(r.hash)}</code>${r.note ? ` — ${esc(r.note)}` : ""}</p>`);
    if (r.packages.length > 0) {
      out.push(`<table><thead><tr><th>package</th><th>versions</th></tr></thead><tbody>`);
      for (const p of r.packages) {
        out.push(`<tr><td><code>${esc(p.name)}</code></td><td>${p.versions.map((v) => esc(v)).join(", ") || '<span class="muted">none</span>'}</td></tr>`);
      }
      out.push(`</tbody></table>`);
    }
  }

  out.push(`<h2 id="hex">Hex repositories</h2>`);
  if (m.repos.length === 0) out.push(`<p class="muted">No Hex repositories published to this store.</p>`);
  for (const r of m.repos) {
    const url = `${m.base}/repos/${r.name}`;
    out.push(`<h3 id="repo-${esc(r.name)}">${esc(r.name)}</h3>`);
    out.push(`<p>mix:</p><pre>curl -fsS -o ${esc(r.name)}.pem ${esc(url)}/public_key
mix hex.repo add ${esc(r.name)} ${esc(url)} --public-key ${esc(r.name)}.pem${m.tokens ? " --auth-key YOUR_TOKEN" : ""}</pre>`);
    const example = [...r.packages].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, vs]) => [n, suggestedVersion(vs)] as const).find(([, v]) => v);
    if (example) {
      out.push(`<p>and in <code>mix.exs</code>: <code>${esc(mixDep(example[0], example[1]!, r.name))}</code>; in <code>rebar.config</code>: <code>{deps, [${esc(rebarDep(example[0], example[1]!))}]}.</code></p>`);
    }
    out.push(`<p>rebar3 (<code>~/.config/rebar3/rebar.config</code>):</p><pre>{hex, [{repos, [#{name =&gt; &lt;&lt;"${esc(r.name)}"&gt;&gt;,
            repo_url =&gt; &lt;&lt;"${esc(url)}"&gt;&gt;,${m.tokens ? `\n            repo_key =&gt; &lt;&lt;"YOUR_TOKEN"&gt;&gt;,` : ""}
            repo_public_key =&gt; &lt;&lt;"${esc(r.publicKey ?? "(no public_key published)")}"&gt;&gt;}]}]}.</pre>`);
    if (r.packages.size > 0) {
      out.push(`<table><thead><tr><th>package</th><th>versions</th></tr></thead><tbody>`);
      for (const [name, versions] of [...r.packages].sort(([a], [b]) => (a < b ? -1 : 1))) {
        out.push(`<tr><td><code>${esc(name)}</code></td><td>${sortVersions(versions).map((v) => esc(v)).join(", ") || '<span class="muted">none</span>'}</td></tr>`);
      }
      out.push(`</tbody></table>`);
    }
  }
  if (m.mirrors.length > 0) {
    out.push(`<h2 id="mirrors">Hex mirrors</h2>`);
    for (const mirror of m.mirrors) {
      const url = `${m.base}/repos/${mirror.name}`;
      out.push(`<h3>${esc(mirror.name)} <span class="muted">of ${esc(mirror.upstream)}</span></h3>`);
      out.push(`<pre>HEX_MIRROR_URL=${esc(url)} mix deps.get
HEX_CDN=${esc(url)} rebar3 get-deps</pre>`);
    }
  }
  out.push(`<p class="muted">Health: <a href="/health">/health</a> · Metrics: <a href="/metrics">/metrics</a></p></body></html>\n`);
  return out.join("\n");
}
