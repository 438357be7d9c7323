/**
 * Text from hostile input (package names, versions, failure reasons quoting a Package.toml
 * `repo`) shown in a check run's Markdown: as one code span, so that it can carry no image (a
 * tracking pixel), link, @mention or heading, on one line and bounded in length.
 */
const MAX_CHARS = 2000;

export function codeSpan(text: string): string {
  let s = text.replace(/[\r\n\t]+/g, " ").replace(/`/g, "'");
  if (s.length > MAX_CHARS) s = `${s.slice(0, MAX_CHARS)}…`;
  return `\`${s}\``;
}
