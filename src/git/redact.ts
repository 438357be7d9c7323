/**
 * Hides credentials in URLs and bearer tokens before text is shown or stored: the userinfo of a
 * URL (up to the last `@` of its authority, since a password may hold an `@`) and its query
 * string (where `?access_token=` style secrets travel).
 */

/** The userinfo of a URL: everything up to the authority's last `@` (the authority ends at `/ ? #`). */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi;
/** A URL's query string; it ends at whitespace, a fragment or a quote around the URL. */
const QUERY = /([a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>`]*)\?[^\s#"'<>`]*/gi;

export function redactSecrets(text: string): string {
  return text
    .replace(USERINFO, "$1***@")
    .replace(QUERY, "$1")
    .replace(/(authorization:\s*(?:bearer|token|basic)\s+)\S+/gi, "$1***");
}

/** A URL with no userinfo and no query string: what may be written to disk or hashed for a name. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/i, "$1").replace(/^([a-z][a-z0-9+.-]*:\/\/[^?#]*)\?[^#]*/i, "$1");
}
