/**
 * The browse page of one Hex package (/browse/hex/<repo>/<name>): its releases with the day
 * each tarball was stored, retirements with their reasons, dependencies, checksums, the mix
 * and rebar3 lines for the chosen release and its docs when they were uploaded. Everything
 * comes from the signed package resource, checked against the repository's public_key, so
 * the page shows what clients will accept. Descriptions come from the tarballs'
 * metadata.config; tarballs are immutable, so a description is read once per tarball.
 */
import { readSmall } from "../store/read-small.js";
import { mixDep, rebarDep, suggestedVersion } from "../hex/dep-snippet.js";
import type { Package, Release } from "../hex/messages.js";
import { openPackage } from "../hex/registry.js";
import { compareSemVer } from "../hex/semver.js";
import { parsePublicKey } from "../hex/signing.js";
import { MAX_TARBALL_BYTES, readHexTarball } from "../hex/tarball.js";
import type { Store } from "../store/store.js";
import { day, esc, page, snippet } from "./browse-html.js";

const MAX_PACKAGE_BYTES = 16 * 1024 * 1024;
const MAX_DESCRIPTIONS = 10_000;


/** Descriptions by tarball key and etag; a bad or huge tarball just has none. */
export class HexDescriptions {
  private readonly known = new Map<string, string>();

  constructor(private readonly store: Store) {}

  /** etag: the tarball's, when a listing already gave it (saves a HEAD per package per page). */
  async of(repo: string, name: string, version: string, etag?: string): Promise<string> {
    const key = `repos/${repo}/tarballs/${name}-${version}.tar`;
    const tag = etag ?? (await this.store.head(key))?.etag;
    if (tag === undefined) return "";
    const id = `${key} ${tag}`;
    const hit = this.known.get(id);
    if (hit !== undefined) return hit;
    let description = "";
    try {
      const got = await readSmall(this.store, key, MAX_TARBALL_BYTES);
      if (got) description = readHexTarball(got.bytes, key).metadata.description ?? "";
    } catch {
      description = "";
    }
    if (this.known.size >= MAX_DESCRIPTIONS) this.known.clear();
    this.known.set(id, description);
    return description;
  }
}

export interface HexPackageView {
  repo: string;
  name: string;
  pkg?: Package;
  problem?: string;
  dates: Map<string, Date>;
  docs: Set<string>;
  description: string;
}

export async function loadHexPackage(store: Store, descriptions: HexDescriptions, repo: string, name: string): Promise<HexPackageView | null> {
  const view: HexPackageView = { repo, name, dates: new Map(), docs: new Set(), description: "" };
  const tarPrefix = `repos/${repo}/tarballs/${name}-`;
  for await (const e of store.list(tarPrefix)) {
    const v = e.key.slice(tarPrefix.length, -".tar".length);
    if (e.key.endsWith(".tar") && e.modified) view.dates.set(v, e.modified);
  }
  const docsPrefix = `repos/${repo}/docs/${name}-`;
  for await (const e of store.list(docsPrefix)) {
    if (e.key.endsWith(".tar.gz")) view.docs.add(e.key.slice(docsPrefix.length, -".tar.gz".length));
  }
  const resource = await readSmall(store, `repos/${repo}/packages/${name}`, MAX_PACKAGE_BYTES);
  if (!resource) return view.dates.size > 0 ? { ...view, problem: "no signed package resource (packages/" + name + ") in the store" } : null;
  const pem = await readSmall(store, `repos/${repo}/public_key`, 64 * 1024);
  try {
    if (!pem) throw new Error("the repository has no public_key");
    view.pkg = openPackage(resource.bytes, parsePublicKey(pem.bytes.toString("utf8"), `repos/${repo}/public_key`), repo, name, `repos/${repo}/packages/${name}`);
  } catch (err) {
    view.problem = `the package resource does not check out: ${(err as Error).message}`;
    return view;
  }
  const newest = suggestedVersion(view.pkg.releases.map((r) => r.version));
  if (newest) view.description = await descriptions.of(repo, name, newest);
  return view;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function marks(r: Release): string {
  const out: string[] = [];
  if (r.version.includes("-")) out.push(`<span class="mark pre">pre-release</span>`);
  if (r.retired) out.push(`<span class="mark retired">retired: ${esc(r.retired.reason)}</span>`);
  return out.join("");
}

export function renderHexPackage(v: HexPackageView, base: string, chosen: string | null, tokens: boolean): string {
  const url = `${base}/repos/${v.repo}`;
  const out: string[] = [];
  out.push(`<p class="muted"><a href="/#repo-${esc(v.repo)}">Hex repository ${esc(v.repo)}</a></p>`);
  out.push(`<h2>${esc(v.name)}</h2>`);
  if (v.description) out.push(`<p>${esc(v.description)}</p>`);
  if (!v.pkg) {
    out.push(`<p class="muted">${esc(v.problem ?? "not published")}</p>`);
    return page(`${v.name} — pkgpub`, base, out.join("\n"));
  }
  const releases = [...v.pkg.releases].sort((a, b) => compareSemVer(b.version, a.version));
  const version = chosen && releases.some((r) => r.version === chosen) ? chosen : suggestedVersion(releases.map((r) => r.version));
  const release = releases.find((r) => r.version === version);
  if (release) {
    out.push(`<h3>Version ${esc(release.version)}${marks(release)}</h3>`);
    if (release.retired) {
      const why = release.retired.message ? `<strong>Retired (${esc(release.retired.reason)}):</strong> ${esc(release.retired.message)}` : `<strong>Retired (${esc(release.retired.reason)}).</strong>`;
      out.push(`<p>${why} mix and rebar3 warn when they resolve it.</p>`);
    }
    out.push(`<p>In <code>mix.exs</code> deps:</p>`, snippet(mixDep(v.name, release.version, v.repo)));
    out.push(`<p>In <code>rebar.config</code>:</p>`, snippet(`{deps, [${rebarDep(v.name, release.version)}]}.`));
    out.push(`<p class="muted">Once per machine, add the repository: <code>mix hex.repo add ${esc(v.repo)} ${esc(url)} --public-key ${esc(v.repo)}.pem${tokens ? " --auth-key YOUR_TOKEN" : ""}</code> with the key from <a href="/repos/${esc(v.repo)}/public_key">public_key</a> (the rebar3 entry is on the <a href="/#repo-${esc(v.repo)}">front page</a>).</p>`);
    if (v.docs.has(release.version)) out.push(`<p><a href="/docs/${esc(v.repo)}/${esc(v.name)}/${esc(release.version)}/">Documentation for ${esc(release.version)}</a></p>`);
    out.push(`<dl class="facts">`);
    out.push(`<dt>Published</dt><dd>${esc(day(v.dates.get(release.version)) || "unknown")}</dd>`);
    out.push(`<dt>Checksum (sha256 of the tarball)</dt><dd><code>${hex(release.outerChecksum)}</code></dd>`);
    out.push(`<dt>Inner checksum</dt><dd><code>${hex(release.innerChecksum)}</code></dd>`);
    out.push(`<dt>Tarball</dt><dd><a href="/repos/${esc(v.repo)}/tarballs/${esc(v.name)}-${esc(release.version)}.tar">${esc(v.name)}-${esc(release.version)}.tar</a></dd>`);
    out.push(`</dl>`);
    out.push(`<h3>Dependencies of ${esc(release.version)}</h3>`);
    if (release.dependencies.length === 0) out.push(`<p class="muted">None.</p>`);
    else {
      out.push(`<table><thead><tr><th>package</th><th>requirement</th><th>repository</th><th></th></tr></thead><tbody>`);
      for (const d of release.dependencies) {
        const repo = d.repository ?? v.repo;
        const link = repo === v.repo ? `<a href="/browse/hex/${esc(repo)}/${esc(d.package)}">${esc(d.package)}</a>` : esc(d.package);
        out.push(`<tr><td><code>${link}</code></td><td><code>${esc(d.requirement)}</code></td><td>${esc(repo)}</td><td>${d.optional ? "optional" : ""}</td></tr>`);
      }
      out.push(`</tbody></table>`);
    }
  }
  out.push(`<h3>Versions</h3><table><thead><tr><th>version</th><th>published</th><th>status</th><th>docs</th></tr></thead><tbody>`);
  for (const r of releases) {
    const status = r.retired ? `<span class="mark retired">retired: ${esc(r.retired.reason)}</span>${r.retired.message ? ` ${esc(r.retired.message)}` : ""}` : r.version.includes("-") ? `<span class="mark pre">pre-release</span>` : "";
    const docs = v.docs.has(r.version) ? `<a href="/docs/${esc(v.repo)}/${esc(v.name)}/${esc(r.version)}/">docs</a>` : "";
    out.push(`<tr><td><a href="?v=${encodeURIComponent(r.version)}">${esc(r.version)}</a></td><td>${esc(day(v.dates.get(r.version)))}</td><td>${status}</td><td>${docs}</td></tr>`);
  }
  out.push(`</tbody></table>`);
  return page(`${v.name} — Hex repository ${v.repo} — pkgpub`, base, out.join("\n"));
}
