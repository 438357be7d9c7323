import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * A plain HTTP server on loopback standing in for pkg.julialang.org or repo.hex.pm: a table of
 * routes by path, and a log of every request it received.
 */
export class FakeUpstream {
  readonly routes = new Map<string, Route>();
  readonly requests: Array<{ method: string; path: string; headers: IncomingMessage["headers"] }> = [];
  private server!: Server;
  url = "";

  static async start(host = "127.0.0.1"): Promise<FakeUpstream> {
    const f = new FakeUpstream();
    f.server = createServer((req, res) => {
      f.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
      const route = f.routes.get((req.url ?? "").split("?")[0]!);
      if (!route) {
        res.writeHead(404, { "Content-Length": "0" });
        res.end();
        return;
      }
      void Promise.resolve(route(req, res)).catch(() => res.destroy());
    });
    await new Promise<void>((r) => f.server.listen(0, host, r));
    f.url = `http://${host}:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** Serves fixed bytes (with Content-Length, and an ETag if given) for GET and HEAD. */
  bytes(path: string, body: Buffer, headers: Record<string, string> = {}): void {
    this.routes.set(path, (req, res) => {
      if (headers.ETag && req.headers["if-none-match"] === headers.ETag) {
        res.writeHead(304, { ETag: headers.ETag });
        res.end();
        return;
      }
      res.writeHead(200, { "Content-Length": String(body.length), ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  }

  count(path: string, method = "GET"): number {
    return this.requests.filter((r) => r.path === path && r.method === method).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
