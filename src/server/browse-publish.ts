/**
 * The browse page's "Publishing" section: for each Hex repository with a write door
 * ([[hex_publish]]) that the reader may see, the mix.exs `hex:` lines, the HEX_API_URL form and
 * the rebar3 lines that make `mix hex.publish` / `rebar3 hex publish -r <repo>` post here.
 * Keys are placeholders; the page never shows a token.
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function publishingSection(repos: string[], base: string, canRead: (path: string) => boolean): string {
  const shown = repos.filter((r) => canRead(`/repos/${r}`));
  if (shown.length === 0) return "";
  const out = [`<h2 id="publishing">Publishing (Hex HTTP API)</h2>`, `<p>With a token allowed to publish (<code>publish = ["…"]</code>), <code>mix hex.publish</code>, <code>mix hex.retire</code>, <code>mix hex.publish --revert</code> and <code>rebar3 hex publish</code> work against this server.</p>`];
  for (const repo of shown) {
    const api = `${base}/api/repos/${repo}`;
    out.push(`<h3 id="publish-${esc(repo)}">${esc(repo)}</h3>`);
    out.push(`<p>mix (<code>project/0</code> in <code>mix.exs</code>; <code>HEX_API_KEY</code> overrides <code>api_key</code>):</p><pre>hex: [api_url: "${esc(api)}", api_key: System.get_env("HEX_API_KEY")]</pre>`);
    out.push(`<p>or without <code>mix.exs</code> changes:</p><pre>HEX_API_URL=${esc(base)}/api HEX_API_KEY=YOUR_TOKEN mix hex.publish --organization ${esc(repo)}</pre>`);
    out.push(`<p>rebar3 (<code>~/.config/rebar3/rebar.config</code>, then <code>rebar3 hex publish -r ${esc(repo)}</code>):</p><pre>{hex, [{repos, [#{name =&gt; &lt;&lt;"${esc(repo)}"&gt;&gt;,
                  api_url =&gt; &lt;&lt;"${esc(api)}"&gt;&gt;,
                  api_key =&gt; &lt;&lt;"YOUR_TOKEN"&gt;&gt;,
                  repo_url =&gt; &lt;&lt;"${esc(base)}/repos/${esc(repo)}"&gt;&gt;}]}]}.</pre>`);
  }
  return out.join("\n");
}

/** Puts the section before the page's footer (or the end of the body). */
export function withPublishing(html: string, repos: string[] | undefined, base: string, canRead: (path: string) => boolean): string {
  const section = publishingSection(repos ?? [], base, canRead);
  if (!section) return html;
  const at = html.lastIndexOf('<p class="muted">Health:');
  const i = at >= 0 ? at : html.lastIndexOf("</body>");
  return i >= 0 ? `${html.slice(0, i)}${section}\n${html.slice(i)}` : html + section;
}
