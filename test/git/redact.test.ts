// Secrets in repository URLs: a password holding '@' and a query-string token are hidden in
// every message and never written into a clone's config on disk, while git still uses them.
import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redactSecrets, stripCredentials } from "../../src/git/redact.js";
import { GitRepository } from "../../src/git/repository.js";
import { git, makeRepo, tempDir } from "../support/git-repo.js";

describe("redactSecrets", () => {
  it("hides userinfo up to the authority's last @", () => {
    const shown = redactSecrets("cannot clone https://user:p@ss@host.example/r.git: refused");
    expect(shown).toBe("cannot clone https://***@host.example/r.git: refused");
    expect(shown).not.toContain("ss@");
  });

  it("drops query strings, also in quoted and several URLs", () => {
    const text = `fetch "https://host.example/r.git?access_token=tok123&x=1" then https://h2.example/a?sig=abc#frag done`;
    const shown = redactSecrets(text);
    expect(shown).toBe(`fetch "https://host.example/r.git" then https://h2.example/a#frag done`);
    expect(shown).not.toMatch(/tok123|sig=abc/);
  });

  it("leaves an @ in the path alone and still hides userinfo before it", () => {
    expect(redactSecrets("https://t0k@host.example/org/@scope/r.git")).toBe("https://***@host.example/org/@scope/r.git");
    expect(redactSecrets("see git@github.com:org/r.git")).toBe("see git@github.com:org/r.git");
  });

  it("stripCredentials removes userinfo and query", () => {
    expect(stripCredentials("https://user:p@ss@host.example/r.git?access_token=tok#x")).toBe("https://host.example/r.git#x");
    expect(stripCredentials("ssh://git@host.example/r.git")).toBe("ssh://host.example/r.git");
  });
});

describe("a clone over HTTP with secrets in its URL", () => {
  const tmp = tempDir("pkgpub-redact-");
  afterAll(() => tmp.cleanup());

  it("uses them to fetch, shows and stores neither", async () => {
    const { dir: work } = makeRepo(path.join(tmp.dir, "src"), { "README.md": "hello\n" });
    const bare = path.join(tmp.dir, "srv", "r.git");
    git(tmp.dir, "clone", "--quiet", "--bare", work, bare);
    git(bare, "update-server-info");
    // A dumb-HTTP host that wants both the Basic password and the query token.
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      const raw = req.url ?? "/";
      seen.push(`${req.headers.authorization ?? ""} ${raw}`);
      const auth = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
      if (auth !== "user:p@ss") {
        res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
        return;
      }
      if (!raw.includes("access_token=tok123")) return void res.writeHead(403).end();
      const file = raw.replace("?access_token=tok123", "").replace(/[?&].*$/, "");
      try {
        res.end(readFileSync(path.join(tmp.dir, "srv", decodeURIComponent(file))));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const url = `http://user:p%40ss@127.0.0.1:${port}/r.git?access_token=tok123`;
      const cacheDir = path.join(tmp.dir, "cache");
      const repo = await GitRepository.open(url, { cacheDir });
      expect(await repo.resolveCommit()).toMatch(/^[0-9a-f]{40}$/);
      expect(repo.display).toBe(`http://***@127.0.0.1:${port}/r.git`);
      const [clone] = readdirSync(cacheDir);
      const config = readFileSync(path.join(cacheDir, clone!, "config"), "utf8");
      expect(config).toContain(`url = http://127.0.0.1:${port}/r.git\n`);
      expect(config).not.toMatch(/p%40ss|ss@|tok123|user/);
      expect(seen.some((s) => s.includes("tok123"))).toBe(true);
      repo.close();

      // A wrong password: the error names the repository without either secret.
      const bad = `http://user:wr@ng@127.0.0.1:${port}/r.git?access_token=tok123`;
      const err = await GitRepository.open(bad, { cacheDir: path.join(tmp.dir, "cache2") }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(`http://***@127.0.0.1:${port}/r.git`);
      expect((err as Error).message).not.toMatch(/wr%40ng|ng@|tok123/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
