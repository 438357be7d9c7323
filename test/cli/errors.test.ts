// Errors an operator meets first, through the real CLI process: each names the setting at fault
// and how to fix it, and a server that cannot start prints no banner saying it is serving.
import { createServer, type Server } from "node:net";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { newKeyPem } from "../hex/support/fixtures.js";
import { simpleTarball } from "../hex/support/tarballs.js";

describe("errors that say the fix", () => {
  const tmp = tempDir("cli-errors-");
  let busy: Server;
  let busyPort: number;
  const env = { ...process.env, WEBHOOK_SECRET: "a-real-webhook-secret-0123", APP_ID: "1" };
  const key = newKeyPem();

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
    tmp.cleanup();
  });

  it("serve on a busy port names the port and how to change it, and prints no banner", async () => {
    const r = await spawnCli(["serve", "--store", path.join(tmp.dir, "store"), "--port", String(busyPort)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pkgpub serve: port ${busyPort} is already in use on 127.0.0.1`);
    expect(r.stderr).toContain("--port <n>, PKGPUB_PORT");
    expect(r.stdout).not.toContain("JULIA_PKG_SERVER");
    expect(r.stdout).not.toContain(" on http://");
  });

  it("app on a busy port names the port and how to change it, and prints no banner", async () => {
    const keyFile = path.join(tmp.dir, "app.pem");
    writeFileSync(keyFile, key.privatePem);
    const r = await spawnCli(["app"], { env: { ...env, PRIVATE_KEY_PATH: keyFile, PORT: String(busyPort) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pkgpub app: port ${busyPort} is already in use on 127.0.0.1`);
    expect(r.stderr).toContain("--port <n> or PORT");
    expect(r.stdout).not.toContain("listening");
  });

  it("--port abc names the flag (serve from a flag and PKGPUB_PORT; app)", async () => {
    const serve = await spawnCli(["serve", "--port", "abc"]);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain("port (from --port): not a port number (0 to 65535");
    const fromEnv = await spawnCli(["serve"], { env: { ...process.env, PKGPUB_PORT: "80x" } });
    expect(fromEnv.stderr).toContain("port (from PKGPUB_PORT): not a port number");
    const app = await spawnCli(["app", "--port", "abc"], { env });
    expect(app.code).toBe(2);
    expect(app.stderr).toContain('pkgpub app: --port: "abc" is not a port number');
  });

  it("a truncated PEM says it is truncated (hex publish key, App key)", async () => {
    const cut = key.privatePem.slice(0, Math.floor(key.privatePem.length / 2));
    const keyFile = path.join(tmp.dir, "cut.pem");
    writeFileSync(keyFile, cut);
    const tarball = path.join(tmp.dir, "foo.tar");
    writeFileSync(tarball, simpleTarball("foo", "1.0.0"));
    const hex = await spawnCli(["hex", "publish", "--repo", "acme", "--store", path.join(tmp.dir, "store"), "--private-key", keyFile, "--tarball", tarball]);
    expect(hex.code).toBe(1);
    expect(hex.stderr).toMatch(/not a PEM private key: it is truncated: it has "-----BEGIN RSA PRIVATE KEY-----" but no "-----END RSA PRIVATE KEY-----" line/);
    const app = await spawnCli(["app"], { env: { ...env, PRIVATE_KEY: cut } });
    expect(app.code).toBe(1);
    expect(app.stderr).toContain("PRIVATE_KEY is not a PEM private key: it is truncated");
    for (const line of cut.split("\n").slice(1, -1)) {
      expect(hex.stderr).not.toContain(line);
      expect(app.stderr).not.toContain(line);
    }
  });

  it("app without credentials says how to get them", async () => {
    const r = await spawnCli(["app"], { env: { ...process.env, WEBHOOK_SECRET: "x-secret-value-123456" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/APP_ID|GitHub App/);
    expect(r.stderr + r.stdout).toMatch(/New GitHub App|register/i);
  });

  it("pkgpub hex --help lists the hex commands, in the layout every help page shares", async () => {
    const r = await runCli(["hex", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual(["pkgpub hex: sign and publish Hex repositories", "", "Usage:"]);
    for (const c of ["keygen", "publish", "retire", "unretire"]) expect(r.stdout).toContain(`pkgpub hex ${c}`);
    const pages = [["julia"], ["mirror"], ["julia", "publish"], ["julia", "register"], ["hex", "keygen"], ["hex", "publish"], ["hex", "retire"], ["hex", "unretire"], ["mirror", "julia"], ["mirror", "hex"], ["serve"], ["verify"], ["reconcile"], ["app"]];
    for (const words of pages) {
      const page = (await runCli([...words, "--help"])).stdout.split("\n");
      expect(page[0], words.join(" ")).toMatch(new RegExp(`^pkgpub ${words.join(" ")}: \\S`));
      expect(page[1], words.join(" ")).toBe("");
      expect(page[2], words.join(" ")).toBe("Usage:");
    }
  });
});
