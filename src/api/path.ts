/**
 * Where an API request goes: `/api` then an optional `/repos/<repo>` prefix (how both
 * `api_url: ".../api/repos/acme"` and `HEX_API_URL=.../api` with `--organization acme` arrive),
 * then the hex.pm route. Repeated slashes (a trailing "/" in the user's api_url) collapse;
 * segments are percent-decoded one by one and "." / ".." or control characters are refused, so
 * nothing built from them can leave its place.
 */

export interface ApiTarget {
  /** The repository the prefix names, if any. */
  repo?: string;
  /** The route's segments after the prefix (e.g. ["packages", "foo", "releases"]). */
  segments: string[];
  query: URLSearchParams;
}

export type ApiPathResult = { ok: true; target: ApiTarget } | { ok: false; reason: string };

const MAX_TARGET = 2048;

/** Whether a request target is under /api (at a segment boundary). */
export function isApiTarget(url: string): boolean {
  return /^\/+api(\/|\?|$)/.test(url);
}

export function parseApiTarget(url: string): ApiPathResult {
  if (url.length > MAX_TARGET) return { ok: false, reason: `request target longer than ${MAX_TARGET} bytes` };
  const q = url.indexOf("?");
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  const segments: string[] = [];
  for (const raw of rawPath.split("/")) {
    if (raw === "") continue;
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return { ok: false, reason: "malformed percent-encoding in the path" };
    }
    if (s === "." || s === ".." || s.includes("/") || s.includes("\\") || /[\u0000-\u001f\u007f]/.test(s)) return { ok: false, reason: `path segment ${JSON.stringify(raw)} is not allowed` };
    segments.push(s);
  }
  if (segments[0] !== "api") return { ok: false, reason: "not an API path" };
  const rest = segments.slice(1);
  if (rest[0] === "repos" && rest.length >= 2) return { ok: true, target: { repo: rest[1]!, segments: rest.slice(2), query } };
  return { ok: true, target: { segments: rest, query } };
}
