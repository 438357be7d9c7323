// The request log of a running `pkgpub serve`, as an operator tailing it sees it: every request's
// line arrives while the server runs, on a quiet server as on a busy one, with one and with two
// workers.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { PKGPUB_BIN } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** Starts `pkgpub serve`; `lines` grows as stdout's JSON lines arrive. */
async function serve(workers: number): Promise<{ url: string; lines: Array<Record<string, unknown>> }> {
  const t = tempDir("pkgpub-reqlog-");
  const child = spawn(process.execPath, [PKGPUB_BIN, "serve", "--store", t.dir, "--port", "0", "--workers", String(workers)], { env: { PATH: process.env.PATH } });
  children.push(child);
  child.once("exit", () => t.cleanup());
  const lines: Array<Record<string, unknown>> = [];
  let banner = "";
  let rest = "";
  child.stdout.on("data", (d: Buffer) => {
    rest += d.toString("utf8");
    let nl: number;
    while ((nl = rest.indexOf("\n")) !== -1) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
      else banner += `${line}\n`;
    }
  });
  for (let i = 0; i < 2400 && !/JULIA_PKG_SERVER=/.test(banner); i++) await new Promise((r) => setTimeout(r, 25));
  const url = /on (http:\/\/\S+)/.exec(banner)?.[1];
  if (!url) throw new Error(`pkgpub serve did not start: ${banner}`);
  return { url, lines };
}

async function lineFor(lines: Array<Record<string, unknown>>, path: string): Promise<Record<string, unknown> | undefined> {
  // Generous for a loaded machine; without the fix the line never came while the server ran.
  for (let i = 0; i < 400; i++) {
    const found = lines.find((l) => l.msg === "request" && l.path === path);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

describe.each([1, 2])("pkgpub serve --workers %i", (workers) => {
  it("writes a single request's log line while it keeps running (not held back until more gather)", async () => {
    const { url, lines } = await serve(workers);
    const res = await raw(url, "/health");
    expect(res.status).toBe(200);
    const line = await lineFor(lines, "/health");
    expect(line).toMatchObject({ level: 30, method: "GET", path: "/health", status: 200, complete: true, msg: "request" });
    expect(typeof line!.time).toBe("number");

    const miss = await raw(url, `/package/7876af07-990d-54b4-ab0e-23690620f79a/${"a".repeat(40)}`);
    expect(miss.status).toBe(404);
    expect(await lineFor(lines, `/package/7876af07-990d-54b4-ab0e-23690620f79a/${"a".repeat(40)}`)).toMatchObject({ status: 404, route: "package" });
  }, 60_000);
});
