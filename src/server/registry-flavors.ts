// Registry flavours as PkgServer serves them (spec §2.5): /registries redirects to
// /registries.eager or /registries.conservative by the client's headers, once the store has a
// conservative listing; a store without one (written before flavours, or holding only mirrors)
// stays flavourless and answers one listing under all three paths.

import type { IncomingMessage } from "node:http";
import type { Store } from "../store/store.js";
import type { ResourceSource } from "./app.js";
import { header, REVALIDATE } from "./entity.js";
import { HttpError } from "./http-error.js";
import { contentTypeOf, type Resource } from "./resource-path.js";
import { storeEntity } from "./store-entity.js";

export type Flavor = "eager" | "conservative";

/** The store key of the conservative listing (publish/registries-pointer.ts writes it). */
export const CONSERVATIVE_LISTING = "registries.conservative";

/**
 * PkgServer's rule: the Julia-Registry-Preference header if given, else eager for a client that
 * reports any CI variable as true (a `Julia-CI-Variables` item ending in "=t"), else conservative.
 */
export function preferredFlavor(req: IncomingMessage): Flavor {
  const preference = header(req, "julia-registry-preference")?.trim();
  if (preference !== undefined && preference !== "") {
    if (preference === "eager" || preference === "conservative") return preference;
    throw new HttpError(400, `Julia-Registry-Preference ${JSON.stringify(preference.slice(0, 40))} is neither eager nor conservative`);
  }
  const ci = (header(req, "julia-ci-variables") ?? "").split(";").some((item) => /=t$/.test(item.trim()));
  return ci ? "eager" : "conservative";
}

/** Whether the store holds a conservative listing, i.e. serves flavours. */
export async function storeIsFlavoured(store: Store): Promise<boolean> {
  return (await store.head(CONSERVATIVE_LISTING)) !== null;
}

/** The store key a flavour is read from: a flavourless store answers `registries` for both. */
export async function listingKey(store: Store, flavor: Flavor | undefined): Promise<string> {
  return flavor === "conservative" && (await storeIsFlavoured(store)) ? CONSERVATIVE_LISTING : "registries";
}

/** Before every other source: the redirect, and the flavourless store's conservative answer. */
export class RegistryFlavors implements ResourceSource {
  readonly kinds = new Set<Resource["kind"]>(["registries"]);
  constructor(
    private readonly store: Store,
    /** False when another source (the upstream merge) reads the listings itself. */
    private readonly servesListings = true,
  ) {}

  async entity(...[resource, req, state]: Parameters<ResourceSource["entity"]>) {
    if (resource.kind !== "registries") return null;
    if (resource.flavor === undefined) {
      if (!(await storeIsFlavoured(this.store))) return null;
      const flavor = preferredFlavor(req);
      state.source = `redirect-${flavor}`;
      // Relative, so that a server mounted under a path prefix redirects within it.
      throw new HttpError(302, `see registries.${flavor}`, { Location: `registries.${flavor}` });
    }
    if (this.servesListings && resource.flavor === "conservative" && !(await storeIsFlavoured(this.store))) {
      const e = await storeEntity(this.store, "registries", req, { contentType: contentTypeOf(resource), cacheControl: REVALIDATE });
      if (e) state.source = "store";
      return e;
    }
    return null;
  }
}
