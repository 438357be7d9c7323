import { readSmall } from "../store/read-small.js";
import type { Store } from "../store/store.js";

/**
 * The browse page's "Mirrored from" section: what `pkgpub mirror` copied into the store and
 * from which upstream, read from the mirror records (mirror/julia.json, mirror/hex/<repo>.json).
 * Shown per the reader's access, like the rest of the page.
 */

const MAX_RECORD_BYTES = 8 * 1024 * 1024;

interface JuliaRecord {
  packages?: Array<{ name: string; uuid: string; version?: string; upstream: string }>;
}
interface HexRecord {
  repo?: string;
  upstream?: string;
  packages?: Array<{ name: string; version: string }>;
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

async function readJson<T>(store: Store, key: string): Promise<T | null> {
  try {
    const got = await readSmall(store, key, MAX_RECORD_BYTES);
    return got ? (JSON.parse(got.bytes.toString("utf8")) as T) : null;
  } catch {
    return null;
  }
}

function table(rows: Array<[string, string]>): string {
  return `<table><thead><tr><th>package</th><th>versions</th></tr></thead><tbody>${rows.map(([n, v]) => `<tr><td><code>${esc(n)}</code></td><td>${esc(v)}</td></tr>`).join("")}</tbody></table>`;
}

function grouped(items: Array<{ name: string; version?: string }>): Array<[string, string]> {
  const m = new Map<string, string[]>();
  for (const i of items) m.set(i.name, [...(m.get(i.name) ?? []), ...(i.version ? [i.version] : [])]);
  return [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, vs]) => [n, vs.join(", ")]);
}

export async function mirroredSection(store: Store, canRead: (path: string) => boolean): Promise<string> {
  const out: string[] = [];
  const julia = canRead("/registries") ? await readJson<JuliaRecord>(store, "mirror/julia.json") : null;
  const byUpstream = new Map<string, NonNullable<JuliaRecord["packages"]>>();
  for (const p of julia?.packages ?? []) byUpstream.set(p.upstream, [...(byUpstream.get(p.upstream) ?? []), p]);
  for (const [upstream, pkgs] of byUpstream) {
    out.push(`<h3>Julia <span class="muted">from ${esc(upstream)}</span></h3>`, table(grouped(pkgs)));
  }
  for await (const { key } of store.list("mirror/hex/")) {
    const m = /^mirror\/hex\/([a-z0-9_-]+)\.json$/.exec(key);
    if (!m || !canRead(`/repos/${m[1]}`)) continue;
    const r = await readJson<HexRecord>(store, key);
    if (!r?.packages?.length) continue;
    out.push(
      `<h3>Hex repository ${esc(m[1])} <span class="muted">from ${esc(r.upstream ?? "?")}</span></h3>`,
      `<p class="muted">Signed by the upstream: clients use its public key. Its names and versions list every upstream package; only these are held (others are 404).</p>`,
      table(grouped(r.packages)),
    );
  }
  if (out.length === 0) return "";
  return `<h2 id="mirrored">Mirrored from upstreams</h2>\n<p class="muted">Copied by <code>pkgpub mirror</code>, verified, and served from this store without the upstream.</p>\n${out.join("\n")}\n`;
}

/** Puts the section before the page's footer (or the end of the body). */
export async function withMirrored(html: string, store: Store, canRead: (path: string) => boolean): Promise<string> {
  const section = await mirroredSection(store, canRead);
  if (!section) return html;
  const at = html.lastIndexOf('<p class="muted">Health:');
  const i = at >= 0 ? at : html.lastIndexOf("</body>");
  return i >= 0 ? `${html.slice(0, i)}${section}${html.slice(i)}` : html + section;
}
