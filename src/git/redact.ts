/** Hides credentials in URLs (https://user:token@host) and bearer tokens before text is shown. */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@")
    .replace(/(authorization:\s*(?:bearer|token|basic)\s+)\S+/gi, "$1***");
}
