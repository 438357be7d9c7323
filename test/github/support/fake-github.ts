// A local stand-in for GitHub's REST API: installation tokens, repository contents (for
// .github/pkgpub.yml), check runs and pull requests. Only GitHub is faked.

import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CheckRun {
  id: number;
  owner: string;
  repo: string;
  head_sha: string;
  name: string;
  status: string;
  conclusion?: string;
  output?: { title: string; summary: string };
}

export interface FakeGitHub {
  url: string;
  /** owner/repo → path → file content */
  files: Map<string, Map<string, string>>;
  tokens: Set<string>;
  checkRuns: Map<number, CheckRun>;
  pulls: Array<{ owner: string; repo: string; head: string; base: string; title: string }>;
  calls: Array<{ method: string; path: string; auth: string }>;
  /** Repositories the installation (id 42) can access, for the App's reconcile. */
  repositories: Array<{ name: string; full_name: string; clone_url: string; owner: { login: string } }>;
  setFile(fullName: string, path: string, content: string): void;
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const files = new Map<string, Map<string, string>>();
  const tokens = new Set<string>();
  const checkRuns = new Map<number, CheckRun>();
  const pulls: FakeGitHub["pulls"] = [];
  const calls: FakeGitHub["calls"] = [];
  const repositories: FakeGitHub["repositories"] = [];
  let nextId = 1;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
    const url = new URL(req.url ?? "/", "http://x");
    const path = decodeURIComponent(url.pathname);
    const auth = req.headers.authorization ?? "";
    calls.push({ method: req.method ?? "", path, auth });
    let m: RegExpExecArray | null;
    if (req.method === "POST" && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
      if (!auth.startsWith("bearer ") && !auth.startsWith("Bearer ")) return json(res, 401, { message: "JWT required" });
      const token = `ghs_${randomBytes(12).toString("hex")}`;
      tokens.add(token);
      return json(res, 201, { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {} });
    }
    if (req.method === "GET" && path === "/app/installations") {
      if (!/^bearer /i.test(auth)) return json(res, 401, { message: "JWT required" });
      return json(res, 200, [{ id: 42, account: { login: "acme" } }]);
    }
    const authorized = /^token (.+)$/i.exec(auth)?.[1];
    if (!authorized || !tokens.has(authorized)) return json(res, 401, { message: "Bad credentials" });
    if (req.method === "GET" && path === "/installation/repositories") {
      return json(res, 200, { total_count: repositories.length, repositories });
    }
    if (req.method === "GET" && (m = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(path))) {
      const content = files.get(`${m[1]}/${m[2]}`)?.get(m[3]!);
      if (content === undefined) return json(res, 404, { message: "Not Found" });
      res.writeHead(200, { "content-type": "application/vnd.github.raw; charset=utf-8" }).end(content);
      return;
    }
    if (req.method === "POST" && (m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(path))) {
      const run: CheckRun = { id: nextId++, owner: m[1]!, repo: m[2]!, ...body };
      checkRuns.set(run.id, run);
      return json(res, 201, run);
    }
    if (req.method === "PATCH" && (m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/.exec(path))) {
      const run = checkRuns.get(Number(m[3]));
      if (!run) return json(res, 404, { message: "Not Found" });
      Object.assign(run, body);
      return json(res, 200, run);
    }
    if (req.method === "POST" && (m = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(path))) {
      pulls.push({ owner: m[1]!, repo: m[2]!, ...body });
      return json(res, 201, { number: pulls.length, html_url: `https://github.example/${m[1]}/${m[2]}/pull/${pulls.length}` });
    }
    return json(res, 404, { message: `fake GitHub has no route ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    tokens,
    checkRuns,
    pulls,
    calls,
    repositories,
    setFile(fullName, p, content) {
      if (!files.has(fullName)) files.set(fullName, new Map());
      files.get(fullName)!.set(p, content);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
