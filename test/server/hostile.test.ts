import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import { FsStore } from "../../src/store/fs-store.js";
import { startServer, type RunningServer } from "../../src/server/start-server.js";
import { itInOneProcess, startTestServer, type TestServer } from "../support/serve.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";

describe("hostile clients", () => {
  const t = tempDir("pkgpub-hostile-");
  let store: FsStore;
  let server: TestServer;

  beforeAll(async () => {
    store = new FsStore(t.dir);
    await store.put("registries", "/registry/x/y\n");
    server = await startTestServer({ store, port: 0, log: new PassThrough(), maxConnections: 256 });
  });
  afterAll(async () => {
    await server?.close();
    t.cleanup();
  });

  // Counts one process's open connections (each worker has its own maxConnections) and needs a
  // headers timeout shorter than any config file sets.
  itInOneProcess("holds at most maxConnections of 10,000 slow clients, drops the stalled ones, then serves normally", async () => {
    const server: RunningServer = await startServer({ store, port: 0, log: new PassThrough(), maxConnections: 256, headersTimeoutMs: 1000 });
    try {
      await slowLoris(server);
    } finally {
      await server.close();
    }
  }, 120_000);

  async function slowLoris(server: RunningServer): Promise<void> {
    const u = new URL(server.url);
    const sockets: Socket[] = [];
    let peak = 0;
    const sample = () =>
      new Promise<number>((resolve) => server.server.getConnections((_e, n) => resolve(n)));
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 1000; i++) {
        const s = connect({ host: u.hostname, port: Number(u.port) });
        s.on("error", () => undefined);
        // Headers that never end: a slow-loris client.
        s.on("connect", () => s.write("GET /registries HTTP/1.1\r\nHost: x\r\nX-Slow: "));
        sockets.push(s);
      }
      peak = Math.max(peak, await sample());
      await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, await sample());
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(256);
    // The server hangs up on every one it accepted (refused at once, or timed out waiting for
    // headers). Connections the kernel's accept queue dropped are the clients' own problem.
    for (let i = 0; i < 600 && (await sample()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await sample()).toBe(0);
    const ok = await raw(server.url, "/registries");
    expect(ok.status).toBe(200);
    for (const s of sockets) s.destroy();
  }

  it("answers junk request lines with 400 and huge headers with 431, and keeps serving", async () => {
    const u = new URL(server.url);
    const rawExchange = (payload: string) =>
      new Promise<string>((resolve) => {
        const s = connect({ host: u.hostname, port: Number(u.port) });
        let out = "";
        s.on("data", (d) => (out += d.toString()));
        s.on("close", () => resolve(out));
        s.on("error", () => resolve(out));
        s.write(payload);
      });
    expect(await rawExchange("NOT HTTP AT ALL\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawExchange(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await rawExchange(`GET /registries HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200/);
  });
});
