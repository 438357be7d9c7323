/**
 * Who an API request is: the key comes raw in `authorization` (as mix and rebar3 send it) or as
 * `Bearer <key>`; it is one of the `[[token]]` secrets, compared by digest in constant time. A
 * token's `publish` list says where it may write and `replace` where it may also overwrite a
 * release; reads need a token that may publish there or read `/repos/<repo>` (when tokens are
 * configured at all). Only the token's name is ever logged or shown.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError } from "./respond.js";

export interface ApiToken {
  name: string;
  secret: string;
  /** Read path prefixes, as [[token]] scopes ("/repos/acme", "/"). */
  scopes: string[];
  publish: string[];
  replace: string[];
}

export interface Caller {
  name: string;
  scopes: string[];
  publish: Set<string>;
  replace: Set<string>;
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export class ApiAuth {
  private readonly tokens: Array<Caller & { digest: Buffer }>;

  constructor(tokens: ApiToken[]) {
    this.tokens = tokens.map((t) => ({ name: t.name, scopes: t.scopes, publish: new Set(t.publish), replace: new Set(t.replace), digest: digest(t.secret) }));
  }

  get enabled(): boolean {
    return this.tokens.length > 0;
  }

  /** null: no key sent; "unknown": a key that is no token. */
  caller(req: IncomingMessage): Caller | null | "unknown" {
    const value = String(req.headers.authorization ?? "").trim();
    if (value === "") return null;
    const candidates = [value];
    const m = /^bearer\s+(.+)$/i.exec(value);
    if (m) candidates.push(m[1]!.trim());
    for (const c of candidates) {
      const d = digest(c);
      const found = this.tokens.find((t) => timingSafeEqual(t.digest, d));
      if (found) return found;
    }
    return "unknown";
  }

  /** The caller, or 401 for a missing or unknown key. */
  require(req: IncomingMessage): Caller {
    const c = this.caller(req);
    if (c === null) throw new ApiError(401, "missing API key: set api_key (mix.exs hex: [...], HEX_API_KEY, or rebar3's api_key) to a pkgpub token");
    if (c === "unknown") throw new ApiError(401, "invalid API key");
    return c;
  }

  /** 401/403 unless the caller may write to the repository. */
  requireWrite(req: IncomingMessage, repo: string): Caller {
    const c = this.require(req);
    if (!c.publish.has(repo)) throw new ApiError(403, `key ${c.name} is not allowed to publish to repository ${repo}`);
    return c;
  }

  /** Reads are open when no tokens are configured; otherwise the repository's readers and publishers. */
  requireRead(req: IncomingMessage, repo: string): Caller | null {
    if (!this.enabled) return null;
    const c = this.require(req);
    const path = `/repos/${repo}`;
    const reads = c.scopes.some((s) => s === "/" || path === s.replace(/\/$/, "") || path.startsWith(`${s.replace(/\/$/, "")}/`));
    if (!reads && !c.publish.has(repo)) throw new ApiError(403, `key ${c.name} may not read repository ${repo}`);
    return c;
  }

  /** Names of the tokens that may publish to a repository (its "owners"). */
  publishers(repo: string): Caller[] {
    return this.tokens.filter((t) => t.publish.has(repo));
  }
}
