/**
 * The Hex HTTP API door (`mix hex.publish`, `rebar3 hex publish`, retire, revert, docs, info):
 * routes under /api with the optional /repos/<repo> prefix, hex.pm's paths and answers. Off
 * unless `[[hex_publish]]` names a repository; cli/serve.ts hands it to the read-only server,
 * which passes it every /api request. Every answer is an Erlang term; nothing a request does
 * escapes as anything but a status.
 */
import type { KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { publicKeyOf } from "../hex/signing.js";
import type { Store } from "../store/store.js";
import { ApiAuth, type ApiToken } from "./auth.js";
import { baseUrl, type ApiContext, type Call } from "./context.js";
import { publishDocs, revertDocs } from "./docs.js";
import { changeOwner, listOwners } from "./owners.js";
import { searchPackages, showPackage } from "./package.js";
import { isApiTarget, parseApiTarget } from "./path.js";
import { publishRelease, retireRelease, revertRelease, showRelease } from "./release.js";
import { ApiError, sendApiError } from "./respond.js";
import { showMe } from "./user.js";
import { WriteQueue } from "./write-queue.js";

export interface HexApiOptions {
  store: Store;
  repos: Array<{ repo: string; privateKey: KeyObject }>;
  tokens: ApiToken[];
  log?: (line: string) => void;
}

/** What the server needs of a door: which requests it takes, and taking one (resolving to the status sent). */
export interface HexApi {
  claims(url: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, state: { route: string; tokenName?: string }): Promise<number>;
}

const NAME = /^[a-z][a-z0-9_]{0,127}$/;
const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

export function createHexApi(options: HexApiOptions): HexApi {
  const ctx: ApiContext = {
    store: options.store,
    repos: new Map(options.repos.map((r) => [r.repo, { ...r, publicKey: publicKeyOf(r.privateKey) }])),
    auth: new ApiAuth(options.tokens),
    writes: new WriteQueue(),
    log: options.log ?? (() => undefined),
  };

  async function route(req: IncomingMessage, res: ServerResponse, state: { route: string; tokenName?: string }): Promise<number> {
    const parsed = parseApiTarget(req.url ?? "/");
    if (!parsed.ok) throw new ApiError(400, `Bad request: ${parsed.reason}`);
    const { repo: repoName, segments, query } = parsed.target;
    const method = req.method ?? "GET";
    const [a, name, b, version, c, ...extra] = segments;
    const allow = (methods: string[]) => {
      if (!methods.includes(method)) throw new ApiError(405, `Method not allowed: ${method} (allowed: ${methods.join(", ")})`, undefined, { Allow: methods.join(", ") });
    };
    // users/me never carries the repository prefix, but an api_url ending in /repos/<repo> puts it there.
    if (a === "users" && name === "me" && segments.length === 2) {
      state.route = "api_users_me";
      allow(["GET", "HEAD"]);
      return showMe(ctx, req, res, state);
    }
    if (repoName === undefined) {
      throw new ApiError(404, `name the repository: api_url ending in /api/repos/<repo> (mix.exs hex: [api_url: ...] or rebar3's api_url), or --organization <repo>`);
    }
    const repo = ctx.repos.get(repoName);
    if (!repo) throw new ApiError(404, `repository ${repoName.slice(0, 64)} takes no API writes on this server (no [[hex_publish]] for it)`);
    const call: Call = { ctx, req, res, repo, query, base: baseUrl(req), state };
    if (a === "publish" && segments.length === 1) {
      // The older route (MiniRepo, hex.pm): the name comes from the tarball.
      state.route = "api_publish";
      allow(["POST"]);
      return publishRelease(call, undefined);
    }
    if (a !== "packages") throw new ApiError(404, "Page not found");
    if (name === undefined) {
      state.route = "api_search";
      allow(["GET", "HEAD"]);
      return searchPackages(call);
    }
    if (!NAME.test(name)) throw new ApiError(400, `Bad request: invalid package name ${JSON.stringify(name.slice(0, 130))}`);
    if (b === undefined) {
      state.route = "api_package";
      allow(["GET", "HEAD"]);
      return showPackage(call, name);
    }
    if (b === "owners") {
      state.route = "api_owners";
      if (version === undefined) {
        allow(["GET", "HEAD"]);
        return listOwners(call, name);
      }
      if (c !== undefined) throw new ApiError(404, "Page not found");
      allow(["PUT", "DELETE"]);
      return changeOwner(call);
    }
    if (b !== "releases") throw new ApiError(404, "Page not found");
    if (version === undefined) {
      state.route = "api_release_publish";
      allow(["POST"]);
      return publishRelease(call, name);
    }
    if (!VERSION.test(version)) throw new ApiError(400, `invalid version: ${version.slice(0, 80)}`);
    if (extra.length > 0) throw new ApiError(404, "Page not found");
    if (c === undefined) {
      state.route = "api_release";
      allow(["GET", "HEAD", "DELETE"]);
      return method === "DELETE" ? revertRelease(call, name, version) : showRelease(call, name, version);
    }
    if (c === "retire") {
      state.route = "api_retire";
      allow(["POST", "DELETE"]);
      return retireRelease(call, name, version, method === "POST");
    }
    if (c === "docs") {
      state.route = "api_docs";
      allow(["POST", "DELETE"]);
      return method === "POST" ? publishDocs(call, name, version) : revertDocs(call, name, version);
    }
    throw new ApiError(404, "Page not found");
  }

  return {
    claims: isApiTarget,
    async handle(req, res, state) {
      state.route = "api";
      // A write waits for the store (and for writes queued before it) without a byte on the
      // wire; the server's idle-socket cut must not end it halfway. Bodies are bounded by the
      // server's request timeout all the same.
      if (req.method !== "GET" && req.method !== "HEAD") req.socket.setTimeout(0);
      try {
        return await route(req, res, state);
      } catch (err) {
        if (err instanceof ApiError) {
          sendApiError(res, err);
          return err.status;
        }
        ctx.log(`API ${req.method} ${state.route} failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        sendApiError(res, new ApiError(500, "Internal server error"));
        return 500;
      }
    },
  };
}
