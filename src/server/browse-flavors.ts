// The browse page's line on registry flavours: when the conservative listing is behind the
// eager one for a registry (a version of the newest commit is not stored), it says which tree
// conservative clients get, under the registry's tree line.

import { readSmall } from "../store/read-small.js";
import type { Store } from "../store/store.js";

const MAX_LISTING_BYTES = 1 << 20;
const LINE = /^\/registry\/([0-9a-f-]{36})\/([0-9a-f]{40})$/;

async function listing(store: Store, key: string): Promise<Map<string, string> | null> {
  const got = await readSmall(store, key, MAX_LISTING_BYTES);
  if (!got) return null;
  const out = new Map<string, string>();
  for (const l of got.bytes.toString("utf8").split("\n")) {
    const m = LINE.exec(l.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

export async function withFlavours(html: string, store: Store, canRead: (path: string) => boolean): Promise<string> {
  if (!canRead("/registries")) return html;
  const conservative = await listing(store, "registries.conservative").catch(() => null);
  if (!conservative) return html; // a flavourless store: one listing, nothing to say
  const eager = (await listing(store, "registries").catch(() => null)) ?? new Map<string, string>();
  let out = html;
  for (const [uuid, tree] of eager) {
    const held = conservative.get(uuid);
    if (held === tree) continue;
    const anchor = `data-registry="${uuid}"`;
    const at = out.indexOf(anchor);
    const end = at < 0 ? -1 : out.indexOf("</p>", at);
    if (end < 0) continue;
    const note = held
      ? `<p class="muted">Conservative clients (Pkg's default outside CI) get an older state of this registry (tree <code>${held}</code>), the newest commit whose every version is stored; CI clients get the newest (tree <code>${tree}</code>).</p>`
      : `<p class="muted">Conservative clients (Pkg's default outside CI) do not see this registry yet: not every version of it is stored.</p>`;
    out = `${out.slice(0, end + 4)}${note}${out.slice(end + 4)}`;
  }
  return out;
}
