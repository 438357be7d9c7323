// The GitHub App manifest flow, for `pkgpub app` run without App credentials: a local page
// posts app.yml to GitHub as a manifest; GitHub creates the App and sends the browser back with
// a code; the code is exchanged (POST /app-manifests/{code}/conversions) for the App's id, key
// and webhook secret, which are saved to a .env file that `pkgpub app` reads on its next start.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseEnv } from "node:util";
import { parse as parseYaml } from "yaml";
import { listen } from "../net/listen.js";

export interface SetupOptions {
  /** The manifest file (app.yml or app.pull-request.yml). */
  manifestFile: string;
  /** Where the credentials are saved. */
  envFile: string;
  /** https://github.com, or a GitHub Enterprise host: where the browser creates the App. */
  githubUrl: string;
  /** The GitHub API base: where the code is exchanged. */
  apiUrl: string;
  /** Create the App in this organization rather than the signed-in user's account. */
  org?: string;
  /** The public URL GitHub will deliver webhooks to (its /api/github/webhooks); default: this server. */
  publicUrl?: string;
  port: number;
  host: string;
  log: (line: string) => void;
}

export interface SetupServer {
  url: string;
  /** Resolves once the credentials are saved. */
  saved: Promise<string>;
  close(): Promise<void>;
}

/** The conversion answer is small JSON; anything larger is not GitHub's. */
const MAX_CONVERSION_BYTES = 1024 * 1024;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}button{font-size:1rem;padding:.5rem 1rem}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

/** The manifest GitHub receives: app.yml, with this server's URLs filled in. */
export function manifestFor(manifestYaml: string, baseUrl: string, publicUrl: string | undefined, source: string): Record<string, unknown> {
  let manifest: unknown;
  try {
    manifest = parseYaml(manifestYaml);
  } catch (err) {
    throw new Error(`${source}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) throw new Error(`${source}: not a YAML mapping of App settings`);
  const m = manifest as Record<string, unknown>;
  const hook = (typeof m.hook_attributes === "object" && m.hook_attributes !== null ? m.hook_attributes : {}) as Record<string, unknown>;
  return {
    ...m,
    hook_attributes: { ...hook, url: `${(publicUrl ?? baseUrl).replace(/\/+$/, "")}/api/github/webhooks` },
    redirect_url: `${baseUrl}/probot/setup`,
  };
}

/** KEY="value" lines, values with newlines written as \n (as dotenv and `pkgpub app` read them). */
function updateEnvFile(file: string, values: Record<string, string>): void {
  const current = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  const merged = { ...current, ...values } as Record<string, string>;
  const text = Object.entries(merged)
    .map(([k, v]) => `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`)
    .join("\n");
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
}

async function exchange(apiUrl: string, code: string): Promise<Record<string, unknown>> {
  const url = `${apiUrl.replace(/\/+$/, "")}/app-manifests/${encodeURIComponent(code)}/conversions`;
  const res = await fetch(url, { method: "POST", headers: { accept: "application/vnd.github+json", "user-agent": "pkgpub" }, signal: AbortSignal.timeout(30_000) });
  const reader = res.body?.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_CONVERSION_BYTES) {
      await reader.cancel();
      throw new Error(`GitHub's answer to the manifest conversion is over ${MAX_CONVERSION_BYTES} bytes`);
    }
    parts.push(value);
  }
  const text = Buffer.concat(parts).toString("utf8");
  if (!res.ok) {
    let message = "";
    try {
      message = String((JSON.parse(text) as { message?: unknown }).message ?? "");
    } catch {
      // not JSON: the status says enough
    }
    throw new Error(`GitHub refused the manifest code (HTTP ${res.status}${message ? `: ${message}` : ""}); codes expire after an hour and work once: start again from the setup page`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

export async function startSetupServer(options: SetupOptions): Promise<SetupServer> {
  const manifestYaml = readFileSync(options.manifestFile, "utf8");
  // A state only this page knows: GitHub echoes it back, so a forged callback cannot plant
  // another App's credentials here.
  const state = randomBytes(16).toString("hex");
  let resolveSaved!: (file: string) => void;
  const saved = new Promise<string>((r) => (resolveSaved = r));
  let baseUrl = "";
  const createUrl = `${options.githubUrl.replace(/\/+$/, "")}${options.org ? `/organizations/${encodeURIComponent(options.org)}` : ""}/settings/apps/new?state=${state}`;
  // Validate now: a broken manifest is a start-up error, not a broken page.
  manifestFor(manifestYaml, "http://127.0.0.1", options.publicUrl, options.manifestFile);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://setup.invalid");
    const send = (status: number, html: string) => res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (url.pathname === "/health") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok setup: no App credentials yet\n");
      return;
    }
    if (url.pathname === "/") {
      const manifest = JSON.stringify(manifestFor(manifestYaml, baseUrl, options.publicUrl, options.manifestFile));
      send(
        200,
        page(
          "Register the pkgpub GitHub App",
          `<p>pkgpub has no App credentials yet (<code>APP_ID</code>, <code>PRIVATE_KEY</code>, <code>WEBHOOK_SECRET</code>).
The button creates the App on GitHub from <code>${esc(options.manifestFile)}</code>${options.org ? ` in the organization <code>${esc(options.org)}</code>` : ""}; GitHub then sends you back here and the credentials are saved to <code>${esc(options.envFile)}</code>.</p>
<form action="${esc(createUrl)}" method="post"><input type="hidden" name="manifest" value="${esc(manifest)}"><button type="submit">Create the GitHub App on GitHub</button></form>
<p>Webhooks will be sent to <code>${esc(String((JSON.parse(manifest) as { hook_attributes: { url: string } }).hook_attributes.url))}</code>; set <code>PKGPUB_APP_URL</code> to this server's public URL before registering if that is not reachable from GitHub.</p>`,
        ),
      );
      return;
    }
    if (url.pathname === "/probot/setup") {
      const code = url.searchParams.get("code");
      if (!code || !/^[A-Za-z0-9_-]{1,200}$/.test(code)) return send(400, page("No code", "<p>GitHub's callback carries a <code>code</code>; start again from <a href=\"/\">the setup page</a>.</p>"));
      if (url.searchParams.get("state") !== state) return send(400, page("Wrong state", "<p>This callback was not started from this setup page (its <code>state</code> does not match); start again from <a href=\"/\">the setup page</a>.</p>"));
      void (async () => {
        try {
          const app = await exchange(options.apiUrl, code);
          const { id, pem, webhook_secret: secret } = app;
          if ((typeof id !== "number" && typeof id !== "string") || typeof pem !== "string" || typeof secret !== "string") {
            throw new Error("GitHub's answer lacks id, pem or webhook_secret");
          }
          updateEnvFile(options.envFile, {
            APP_ID: String(id),
            PRIVATE_KEY: pem,
            WEBHOOK_SECRET: secret,
            ...(typeof app.client_id === "string" ? { GITHUB_CLIENT_ID: app.client_id } : {}),
            ...(typeof app.client_secret === "string" ? { GITHUB_CLIENT_SECRET: app.client_secret } : {}),
          });
          const htmlUrl = typeof app.html_url === "string" && /^https?:\/\//.test(app.html_url) ? app.html_url : undefined;
          options.log(`App ${String(id)} created; credentials saved to ${options.envFile}`);
          send(
            200,
            page(
              "The App is created",
              `<p>App ${esc(String(id))}'s id, private key and webhook secret are saved to <code>${esc(options.envFile)}</code> (readable only by you). Restart <code>pkgpub app</code> in this directory to serve its webhooks.</p>${htmlUrl ? `<p>Next: <a href="${esc(htmlUrl)}/installations/new">install the App</a> on the repositories it should publish.</p>` : ""}`,
            ),
          );
          resolveSaved(options.envFile);
        } catch (err) {
          options.log(`App registration failed: ${(err as Error).message}`);
          send(502, page("The App could not be created", `<p>${esc((err as Error).message)}</p><p><a href="/">Start again</a>.</p>`));
        }
      })();
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  await listen(server, options.port, options.host, { portSettings: "--port <n> or PORT", hostSettings: "--host or HOST" });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url: baseUrl,
    saved,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
