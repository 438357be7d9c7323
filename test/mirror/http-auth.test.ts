import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpAuth, loadHttpAuth, parseHttpAuthList, parseHttpAuthToml } from "../../src/net/http-auth.js";
import { downloadToFile } from "../../src/publish/download.js";

const SECRET = "s3cr3t-TOKEN-do-not-print";

/** A loopback server that answers 200 only with the expected Authorization, and records what it got. */
async function guarded(host: string, expected: string, redirectTo?: () => string) {
  const seen: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (redirectTo && req.url === "/redirect") {
      res.writeHead(302, { location: redirectTo() }).end();
      return;
    }
    if (expected !== "" && req.headers.authorization !== expected) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { "content-length": "5" }).end("hello");
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Both fake hosts are on loopback; the redirect from one to the other is allowed by name. */
const LOOPBACK = { publicOnly: false, allowHosts: [], redirectHosts: ["127.0.0.2"] };

describe("per-host download credentials", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pkgpub-auth-"));
  let n = 0;
  const file = () => path.join(dir, `f${n++}`);
  let a: Awaited<ReturnType<typeof guarded>>;
  let b: Awaited<ReturnType<typeof guarded>>;

  beforeAll(async () => {
    b = await guarded("127.0.0.2", "");
    a = await guarded("127.0.0.1", `Bearer ${SECRET}`, () => `${b.url}/elsewhere`);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("julia publish's artifact download sends the host's bearer token, and no other host gets it through a redirect", async () => {
    const host = new URL(a.url).host;
    const auth = new HttpAuth(parseHttpAuthList(`${host}=bearer:env:ART_TOKEN`, { ART_TOKEN: SECRET }));
    const got = await downloadToFile(`${a.url}/x`, file(), { maxBytes: 100, timeoutMs: 5000, auth, network: LOOPBACK });
    expect(got.bytes).toBe(5);
    await expect(downloadToFile(`${a.url}/x`, file(), { maxBytes: 100, timeoutMs: 5000, network: LOOPBACK })).rejects.toThrow("HTTP 401");
    await downloadToFile(`${a.url}/redirect`, file(), { maxBytes: 100, timeoutMs: 5000, auth, network: LOOPBACK });
    expect(b.seen).toEqual([undefined]);
  });

  it("basic credentials from an http_auth file; secrets stay in the environment and out of messages", async () => {
    const f = path.join(dir, "auth.toml");
    writeFileSync(f, `[[http_auth]]\nhost = "Nexus.Example.com:8443"\nusername = "ci"\npassword_env = "NEXUS_PW"\n`);
    const auth = await loadHttpAuth({ NEXUS_PW: SECRET, PKGPUB_HTTP_AUTH: `other.example.com=bearer:${SECRET}` }, dir, f);
    expect(auth.hosts()).toEqual(["nexus.example.com:8443", "other.example.com"]);
    expect(auth.headerFor(new URL("https://nexus.example.com:8443/a"))).toBe(`Basic ${Buffer.from(`ci:${SECRET}`).toString("base64")}`);
    expect(auth.headerFor(new URL("https://nexus.example.com/a"))).toBeUndefined();
    // Never over plain http to another host.
    expect(() => auth.headerFor(new URL("http://other.example.com/a"))).toThrow(/only sent over https/);
    try {
      auth.headerFor(new URL("http://other.example.com/a"));
    } catch (err) {
      expect((err as Error).message).not.toContain(SECRET);
    }
    writeFileSync(f, `[[http_auth]]\nhost = "h.example.com"\ntoken = "${SECRET}"\n`);
    await expect(loadHttpAuth({}, dir, f)).rejects.toThrow(/unknown key token/);
    await expect(loadHttpAuth({}, dir, f)).rejects.not.toThrow(SECRET);
    expect(() => parseHttpAuthToml(`[[http_auth]]\nhost = "h"\ntoken_env = "MISSING"\n`, "a.toml", {})).toThrow("a.toml [[http_auth]] 1: token_env env:MISSING: the environment variable is not set");
    expect(() => parseHttpAuthList(`h.example.com=digest:${SECRET}`, {})).toThrow(/scheme must be bearer: or basic:/);
    expect(readFileSync(f, "utf8")).toContain(SECRET); // the refusal above was about this file
  });
});
