// `pkgpub app` without credentials, as a real process: the manifest registration page, the
// callback exchanging GitHub's code (against a fake GitHub API) and saving .env, then the App
// itself started from that .env: /health, and a signed push without `repository` is a 400.
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PKGPUB_BIN } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { deliver } from "./support/deliver.js";

interface Running {
  child: ChildProcess;
  url: string;
  out: () => string;
  exited: Promise<number>;
}

/** Starts `pkgpub app` and waits for the URL it prints. */
function startApp(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Running> {
  const child = spawn(process.execPath, [PKGPUB_BIN, "app", "--port", "0", ...args], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const m = /(?:Open |listening on )(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, out: () => out, exited });
    });
    child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
    void exited.then((code) => reject(new Error(`pkgpub app exited with ${code}: ${err}`)));
  });
}

describe("pkgpub app: registering the App from its manifest", () => {
  const tmp = tempDir("app-setup-");
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const calls: string[] = [];
  let api: http.Server;
  let apiUrl: string;
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: tmp.dir, GITHUB_URL: "https://github.example", LOG_LEVEL: "warn" };

  beforeAll(async () => {
    api = http.createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      if (req.method === "POST" && req.url === "/app-manifests/good-code/conversions") {
        res.writeHead(201, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify({ id: 4242, slug: "pkgpub", pem, webhook_secret: "whsec-from-github-0123456789", client_id: "Iv1.abc", client_secret: "cs-0123", html_url: "https://github.example/apps/pkgpub" }));
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => api.close(r));
    tmp.cleanup();
  });

  it("serves a page that posts app.yml as a manifest to GitHub, and /health", async () => {
    const app = await startApp([], { ...base, GITHUB_API_URL: apiUrl, PKGPUB_APP_URL: "https://hooks.example.com" }, tmp.dir);
    try {
      const pageText = await (await fetch(`${app.url}/`)).text();
      const action = /<form action="([^"]+)" method="post">/.exec(pageText)?.[1]?.replace(/&#38;/g, "&");
      expect(action).toMatch(/^https:\/\/github\.example\/settings\/apps\/new\?state=[0-9a-f]{32}$/);
      const value = /name="manifest" value="([^"]+)"/.exec(pageText)![1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
      const manifest = JSON.parse(value) as Record<string, any>;
      expect(manifest.default_events).toEqual(["push"]);
      expect(manifest.default_permissions).toEqual({ metadata: "read", contents: "write", checks: "write" });
      expect(manifest.hook_attributes.url).toBe("https://hooks.example.com/api/github/webhooks");
      expect(manifest.redirect_url).toBe(`${app.url}/probot/setup`);
      const health = await fetch(`${app.url}/health`);
      expect(health.status).toBe(200);
      // A callback that this page did not start is refused, and GitHub is not asked.
      const forged = await fetch(`${app.url}/probot/setup?code=good-code&state=0123`);
      expect(forged.status).toBe(400);
      expect(calls).toEqual([]);
    } finally {
      app.child.kill("SIGTERM");
      await app.exited;
    }
  });

  it("asks for pull_requests: write only with the register: pull-request manifest", async () => {
    const app = await startApp(["--manifest", path.resolve("app.pull-request.yml")], { ...base, GITHUB_API_URL: apiUrl, GH_ORG: "acme" }, tmp.dir);
    try {
      const pageText = await (await fetch(`${app.url}/`)).text();
      expect(pageText).toContain("https://github.example/organizations/acme/settings/apps/new?state=");
      const value = /name="manifest" value="([^"]+)"/.exec(pageText)![1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
      expect((JSON.parse(value) as { default_permissions: unknown }).default_permissions).toEqual({ metadata: "read", contents: "write", checks: "write", pull_requests: "write" });
    } finally {
      app.child.kill("SIGTERM");
      await app.exited;
    }
  });

  it("exchanges the code, saves id, key and secret to .env, and the App then starts from it", async () => {
    const app = await startApp([], { ...base, GITHUB_API_URL: apiUrl }, tmp.dir);
    const pageText = await (await fetch(`${app.url}/`)).text();
    const state = /state=([0-9a-f]{32})/.exec(pageText)![1]!;
    const expired = await fetch(`${app.url}/probot/setup?code=expired-code&state=${state}`);
    expect(expired.status).toBe(502);
    expect(await expired.text()).toContain("GitHub refused the manifest code (HTTP 404: Not Found)");
    const done = await fetch(`${app.url}/probot/setup?code=good-code&state=${state}`);
    expect(done.status).toBe(200);
    const donePage = await done.text();
    expect(donePage).toContain('href="https://github.example/apps/pkgpub/installations/new"');
    expect(donePage).not.toContain("BEGIN");
    expect(await app.exited).toBe(0);
    expect(calls).toContain("POST /app-manifests/good-code/conversions");
    const envFile = path.join(tmp.dir, ".env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const saved = readFileSync(envFile, "utf8");
    expect(saved).toContain('APP_ID="4242"');
    expect(saved).toContain('WEBHOOK_SECRET="whsec-from-github-0123456789"');
    expect(app.out()).not.toContain("whsec-from-github");

    // The App, started again in that directory with nothing in its environment, runs.
    const running = await startApp([], { ...base, GITHUB_API_URL: apiUrl, PKGPUB_STORE: path.join(tmp.dir, "store") }, tmp.dir);
    try {
      const health = await fetch(`${running.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe("ok 0 queued\n");
      const hook = `${running.url}/api/github/webhooks`;
      const noRepo = await deliver(hook, "push", { ref: "refs/tags/v1.0.0", after: "a".repeat(40), installation: { id: 1 } }, { secret: "whsec-from-github-0123456789" });
      expect(noRepo.status).toBe(400);
      expect(noRepo.body).toContain('the push payload has no \\"repository\\" object');
      const unsigned = await deliver(hook, "push", { ref: "x" }, { secret: "wrong-secret" });
      expect(unsigned.status).toBe(400);
      expect(unsigned.body).not.toContain("repository");
      // Still serving after both.
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
    } finally {
      running.child.kill("SIGTERM");
      await running.exited;
    }
  });
});
