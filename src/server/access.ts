import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AccessCheck } from "./app.js";
import type { TokenConfig } from "./config.js";
import { header } from "./entity.js";
import { HttpError } from "./http-error.js";
import type { Resource } from "./resource-path.js";

interface Grant {
  name: string;
  digest: Buffer;
  scopes: string[];
}

/** "julia" stands for the four Pkg routes; anything else is a path prefix. */
function expandScopes(scopes: string[]): string[] {
  return scopes.flatMap((s) => (s === "julia" ? ["/registries", "/registry", "/package", "/artifact"] : [s]));
}

/** Whether a path lies under a prefix, at a segment boundary ("/repos/acme" covers "/repos/acme/names", not "/repos/acmex"). */
export function underPrefix(path: string, prefix: string): boolean {
  if (prefix === "/") return true;
  const p = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return path === p || path.startsWith(`${p}/`);
}

/**
 * Token access, off unless tokens are configured. Accepts what the clients send:
 * `Bearer <token>` (Julia's auth.toml), the raw token (mix/rebar3 repo keys) and Basic auth's
 * password (a .netrc). Tokens are compared by digest in constant time and never logged: the
 * request state records only the token's name.
 */
export class AccessControl {
  private readonly grants: Grant[];

  constructor(tokens: TokenConfig[]) {
    this.grants = tokens.map((t) => ({ name: t.name, digest: digest(t.token), scopes: expandScopes(t.scopes) }));
  }

  get enabled(): boolean {
    return this.grants.length > 0;
  }

  /** The grant a request's credentials name, or null (no credentials), or "unknown". */
  grantOf(req: IncomingMessage): Grant | null | "unknown" {
    const value = header(req, "authorization")?.trim();
    if (!value) return null;
    for (const candidate of candidates(value)) {
      const d = digest(candidate);
      const grant = this.grants.find((g) => timingSafeEqual(g.digest, d));
      if (grant) return grant;
    }
    return "unknown";
  }

  canRead(grant: Grant | null | "unknown", path: string): boolean {
    if (!this.enabled) return true;
    if (grant === null || grant === "unknown") return false;
    return grant.scopes.some((s) => underPrefix(path, s));
  }

  readonly check: AccessCheck = (resource: Resource, req, state) => {
    if (!this.enabled || resource.kind === "health") return;
    const grant = this.grantOf(req);
    const challenge = { "WWW-Authenticate": 'Bearer realm="pkgpub"' };
    if (grant === null) throw new HttpError(401, "authentication required: send Authorization: Bearer <token>", challenge);
    if (grant === "unknown") throw new HttpError(403, "token not accepted");
    state.tokenName = grant.name;
    // Docs pages are read with the repository's rights: /docs/acme/… as /repos/acme/docs/….
    // Every flavour of /registries is read with the rights to /registries; a package page with
    // those of its repository or registry.
    const path =
      resource.kind === "docs"
        ? `/repos/${resource.repo}/docs/${resource.name}`
        : resource.kind === "registries"
          ? "/registries"
          : resource.kind === "browse"
            ? browseReadPath(resource)
            : (req.url ?? "/").split("?")[0]!;
    // The index page is open to any valid token; it lists only what the token may read.
    if (resource.kind === "index") return;
    if (!grant.scopes.some((s) => underPrefix(path, s))) throw new HttpError(403, `token ${grant.name} may not read ${path}`);
  };
}

/** A package page shows what its repository's or registry's resources show, so it takes their rights. */
export function browseReadPath(r: { ecosystem: "hex" | "julia"; scope: string }): string {
  return r.ecosystem === "hex" ? `/repos/${r.scope}` : "/registries";
}

function candidates(value: string): string[] {
  const out = [value];
  const m = /^(\S+)\s+(.+)$/.exec(value);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    if (scheme === "bearer" || scheme === "token") out.push(m[2]!.trim());
    if (scheme === "basic") {
      const decoded = Buffer.from(m[2]!.trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0) out.push(decoded.slice(colon + 1));
    }
  }
  return out;
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
