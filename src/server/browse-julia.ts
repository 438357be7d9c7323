/**
 * The browse page of one Julia package (/browse/julia/<registry-uuid>/<Name>): its versions
 * (yanked ones marked) with the day each package tarball was stored, the git tree hash Pkg
 * checks, the dependencies and compat bounds of the chosen version, and the Pkg lines to add
 * it. Read from the registry tarball `registries` names, as Pkg reads it.
 */
import { createGunzip } from "node:zlib";
import { parseRange, inRange, parseVersion } from "../julia/registration/versions.js";
import { parseToml, readPackageToml, readVersionsToml, type PackageInfo, type VersionInfo } from "../julia/registry-toml.js";
import { readTar } from "../julia/tar-reader.js";
import type { Store } from "../store/store.js";
import { day, esc, page, snippet } from "./browse-html.js";

type Sections = Array<{ range: string; entries: Record<string, unknown> }>;

export interface JuliaPackageView {
  registry: { uuid: string; name?: string };
  info: PackageInfo;
  versions: VersionInfo[];
  deps: Sections;
  compat: Sections;
  dates: Map<string, Date>;
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString("utf8");
}

function sections(t: string | undefined, file: string): Sections {
  if (t === undefined) return [];
  return Object.entries(parseToml(t, file)).map(([range, entries]) => ({ range, entries: entries as Record<string, unknown> }));
}

/** Reads one package directory's files out of a registry tarball, streaming, and stops there. */
export async function loadJuliaPackage(store: Store, registry: { uuid: string; hash: string; name?: string }, path: string): Promise<JuliaPackageView | null> {
  const obj = await store.get(`registry/${registry.uuid}/${registry.hash}`);
  if (!obj) return null;
  const files = new Map<string, string>();
  const gunzip = createGunzip();
  obj.body.pipe(gunzip);
  try {
    for await (const { member, body } of readTar(gunzip)) {
      const dir = member.parts.slice(0, -1).join("/");
      const file = member.parts[member.parts.length - 1]!;
      if (member.type !== "file" || dir !== path || member.size > 4 * 1024 * 1024) continue;
      if (["Package.toml", "Versions.toml", "Deps.toml", "Compat.toml"].includes(file)) files.set(file, await text(body));
    }
  } finally {
    gunzip.destroy();
    obj.body.destroy();
  }
  const pkgToml = files.get("Package.toml");
  if (pkgToml === undefined) return null;
  const info = readPackageToml(pkgToml, `${path}/Package.toml`);
  const versions = files.has("Versions.toml") ? readVersionsToml(files.get("Versions.toml")!, `${path}/Versions.toml`) : [];
  const dates = new Map<string, Date>();
  const prefix = `package/${info.uuid}/`;
  for await (const e of store.list(prefix)) if (e.modified) dates.set(e.key.slice(prefix.length), e.modified);
  return {
    registry,
    info,
    versions: versions.sort((a, b) => cmp(b.version, a.version)),
    deps: sections(files.get("Deps.toml"), `${path}/Deps.toml`),
    compat: sections(files.get("Compat.toml"), `${path}/Compat.toml`),
    dates,
  };
}

function cmp(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a < b ? -1 : 1;
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || (a < b ? -1 : a > b ? 1 : 0);
}

/** The entries of every section whose range holds the version (Pkg's compressed registry format). */
function forVersion(s: Sections, version: string): Map<string, unknown> {
  const v = parseVersion(version);
  const out = new Map<string, unknown>();
  if (!v) return out;
  for (const { range, entries } of s) {
    let holds = false;
    try {
      holds = inRange(v, parseRange(range));
    } catch {
      holds = false;
    }
    if (holds) for (const [k, val] of Object.entries(entries)) out.set(k, val);
  }
  return out;
}

/** known: uuid → name of the packages in the same registry, whose pages a dependency links to. */
export function renderJuliaPackage(v: JuliaPackageView, base: string, chosen: string | null, known: ReadonlyMap<string, string> = new Map()): string {
  const out: string[] = [];
  const name = v.info.name;
  out.push(`<p class="muted"><a href="/#julia">Julia registry ${esc(v.registry.name ?? v.registry.uuid)}</a></p>`);
  out.push(`<h2>${esc(name)}</h2>`);
  out.push(`<dl class="facts"><dt>UUID</dt><dd><code>${esc(v.info.uuid)}</code></dd><dt>Source</dt><dd><code>${esc(v.info.repo)}</code>${v.info.subdir ? ` (in <code>${esc(v.info.subdir)}</code>)` : ""}</dd></dl>`);
  const listed = v.versions.filter((x) => !x.yanked);
  const version = v.versions.find((x) => x.version === chosen) ?? listed[0] ?? v.versions[0];
  if (version) {
    out.push(`<h3>Version ${esc(version.version)}${version.yanked ? `<span class="mark yanked">yanked</span>` : ""}</h3>`);
    if (version.yanked) out.push(`<p><strong>Yanked:</strong> the registry keeps it for existing manifests, but Pkg will not pick it for a new install.</p>`);
    out.push(`<p>With <code>JULIA_PKG_SERVER=${esc(base)}</code> and the registry added (<code>pkg&gt; registry add ${esc(v.registry.uuid)}</code>, Julia 1.4+):</p>`);
    out.push(snippet(`pkg> add ${name}@${version.version}`));
    out.push(`<p class="muted">or in a script: <code>julia -e 'using Pkg; Pkg.add(Pkg.PackageSpec(name = "${esc(name)}", version = "${esc(version.version)}"))'</code></p>`);
    out.push(`<dl class="facts"><dt>Published</dt><dd>${esc(day(v.dates.get(version.treeHash)) || "unknown")}</dd>`);
    out.push(`<dt>Checksum (git tree hash)</dt><dd><code>${esc(version.treeHash)}</code></dd>`);
    out.push(`<dt>Tarball</dt><dd><a href="/package/${esc(v.info.uuid)}/${esc(version.treeHash)}">package/${esc(v.info.uuid)}/${esc(version.treeHash)}</a></dd></dl>`);
    const deps = forVersion(v.deps, version.version);
    const compat = forVersion(v.compat, version.version);
    out.push(`<h3>Dependencies of ${esc(version.version)}</h3>`);
    if (deps.size === 0) out.push(`<p class="muted">None.</p>`);
    else {
      out.push(`<table><thead><tr><th>package</th><th>compat</th><th>uuid</th></tr></thead><tbody>`);
      for (const [dep, uuid] of [...deps].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const c = compat.get(dep);
        const name = known.get(String(uuid)) === dep ? `<a href="/browse/julia/${esc(v.registry.uuid)}/${esc(dep)}">${esc(dep)}</a>` : esc(dep);
        out.push(`<tr><td><code>${name}</code></td><td><code>${esc(c === undefined ? "any" : Array.isArray(c) ? c.join(", ") : c)}</code></td><td><code>${esc(uuid)}</code></td></tr>`);
      }
      out.push(`</tbody></table>`);
    }
    const julia = compat.get("julia");
    if (julia !== undefined) out.push(`<p class="muted">Julia: <code>${esc(Array.isArray(julia) ? julia.join(", ") : julia)}</code></p>`);
  }
  out.push(`<h3>Versions</h3><table><thead><tr><th>version</th><th>published</th><th>status</th></tr></thead><tbody>`);
  for (const x of v.versions) {
    out.push(`<tr><td><a href="?v=${encodeURIComponent(x.version)}">${esc(x.version)}</a></td><td>${esc(day(v.dates.get(x.treeHash)))}</td><td>${x.yanked ? `<span class="mark yanked">yanked</span>` : ""}</td></tr>`);
  }
  out.push(`</tbody></table>`);
  return page(`${name} — Julia registry ${v.registry.name ?? v.registry.uuid} — pkgpub`, base, out.join("\n"));
}
