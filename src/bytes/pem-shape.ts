// Says what is wrong with PEM text that a crypto library refused, in words that point at the
// fix (a key cut short when pasted into a secret is the common case). Never quotes the text.

/** A sentence naming the problem, or null when the armour looks whole (the body may still be bad). */
export function pemShapeProblem(text: string): string | null {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!begin) return text.trim() === "" ? "it is empty" : 'it has no "-----BEGIN …-----" line';
  const label = begin[1]!;
  const end = `-----END ${label}-----`;
  if (!text.includes(end)) {
    return `it is truncated: it has "-----BEGIN ${label}-----" but no "${end}" line (was it cut short when copied into a file or secret?)`;
  }
  // Header lines ("Proc-Type: …") are not part of the base64.
  const lines = text.slice(begin.index + begin[0].length, text.indexOf(end)).split(/\r?\n/).filter((l) => !l.includes(":"));
  const body = lines.join("").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return "its body is not base64 (edited or mangled?)";
  if (body.length % 4 !== 0) return "it is truncated: its base64 body is cut short";
  return null;
}
