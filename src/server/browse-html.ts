/**
 * The browse pages' shared frame: escaping, the stylesheet, the search box and the copy
 * buttons. Copy buttons are added by a few lines of script so that a page without script
 * shows no dead buttons; everything else works without it.
 */

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A block the user copies as is: a shell line, a deps entry, a config term. */
export function snippet(text: string): string {
  return `<pre class="snippet">${esc(text)}</pre>`;
}

/** "2026-01-01" in UTC: the day a version's object was written to the store. */
export function day(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 10) : "";
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}h1 a{color:inherit;text-decoration:none}h2{margin-top:2rem;border-bottom:1px solid #ddd}h3{margin-bottom:.3rem}
pre{background:#f5f5f5;padding:.6rem .8rem;overflow-x:auto;border-radius:4px;margin:.3rem 0}
.snip{position:relative}.snip button.copy{position:absolute;top:.3rem;right:.3rem;font:12px system-ui,sans-serif;padding:.1rem .5rem;border:1px solid #bbb;border-radius:3px;background:#fff;cursor:pointer}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #eee;vertical-align:top}
code{font-size:.9em}.muted{color:#666}.mark{display:inline-block;font-size:.8em;padding:0 .4rem;border-radius:3px;margin-left:.3rem}
.retired{background:#fde2c8;color:#7a3b00}.yanked{background:#f8d0d0;color:#7a0000}.pre{background:#e4e9f7;color:#223a7a}
form.search{margin:1rem 0}form.search input{font:inherit;padding:.3rem .5rem;width:22rem;max-width:70%}form.search button{font:inherit;padding:.3rem .8rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{color:#666}dl.facts dd{margin:0;word-break:break-all}`;

const COPY_SCRIPT = `document.querySelectorAll("pre.snippet").forEach(function(pre){
var wrap=document.createElement("div");wrap.className="snip";pre.parentNode.insertBefore(wrap,pre);wrap.appendChild(pre);
var b=document.createElement("button");b.type="button";b.className="copy";b.textContent="Copy";wrap.appendChild(b);
b.addEventListener("click",function(){var t=pre.textContent;var done=function(){b.textContent="Copied";setTimeout(function(){b.textContent="Copy"},1500)};
if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(t).then(done)}else{var a=document.createElement("textarea");a.value=t;document.body.appendChild(a);a.select();document.execCommand("copy");a.remove();done()}});});`;

export function searchForm(query = ""): string {
  return `<form class="search" action="/" method="get" role="search"><input type="search" name="q" value="${esc(query)}" placeholder="Search packages by name or description" aria-label="Search packages"> <button type="submit">Search</button></form>`;
}

export function page(title: string, base: string, body: string, query = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
${STYLE}
</style></head><body>
<h1><a href="/">pkgpub</a></h1>
<p class="muted">A package server for Julia and Hex clients at <code>${esc(base)}</code>.</p>
${searchForm(query)}
${body}
<p class="muted">Health: <a href="/health">/health</a> · Metrics: <a href="/metrics">/metrics</a></p>
<script>
${COPY_SCRIPT}
</script></body></html>
`;
}
