// SSRF through Artifacts.toml: a publish (as the App and the Action run it) refuses artifact
// URLs and redirects that reach loopback, link-local or private addresses, and redirects to
// another host; the failure names the URL and the reason, never what the response hashed to.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactNetworkFromEnv } from "../../src/publish/artifact-network.js";
import { downloadToFile } from "../../src/publish/download.js";
import { publishJuliaRegistry } from "../../src/publish/julia-publish.js";
import { FsStore } from "../../src/store/fs-store.js";
import { HttpAuth, parseHttpAuthList } from "../../src/net/http-auth.js";
import { tempDir } from "../support/git-repo.js";
import { makeRegistryFixture, type RegistryFixture } from "./fixtures.js";

const SECRET_BODY = "iam-role-credentials: AKIA-INTERNAL-ONLY\n";
const SECRET_SHA = createHash("sha256").update(SECRET_BODY).digest("hex");

/** A loopback HTTP server answering by path; records what it was asked. */
async function server(host: string, route: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: string[] = [];
  const s = http.createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? ""}`);
    route(req, res);
  });
  await new Promise<void>((r) => s.listen(0, host, r));
  return { url: `http://${host}:${(s.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => s.close(() => r())) };
}

describe("artifact downloads and the network", () => {
  const t = tempDir("pkgpub-ssrf-");
  let n = 0;
  const file = () => path.join(t.dir, `dl-${n++}`);
  let metadata: Awaited<ReturnType<typeof server>>;
  let author: Awaited<ReturnType<typeof server>>;
  let fx: RegistryFixture;

  beforeAll(async () => {
    // 127.0.0.2 plays the cloud metadata service; 127.0.0.1 the author's "public" server.
    metadata = await server("127.0.0.2", (_req, res) => res.end(SECRET_BODY));
    author = await server("127.0.0.1", (req, res) => {
      if (req.url === "/to-metadata") return void res.writeHead(302, { location: `${metadata.url}/latest/meta-data/` }).end();
      if (req.url === "/to-link-local") return void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      if (req.url === "/same-host") return void res.writeHead(302, { location: "/file" }).end();
      if (req.url === "/file") return void res.end("artifact bytes");
      res.writeHead(404).end();
    });
    fx = await makeRegistryFixture(path.join(t.dir, "fx"));
  });
  afterAll(async () => {
    await metadata.close();
    await author.close();
    await fx.artifactServer.close();
    t.cleanup();
  });

  // The author's host passes as public by name; everything else is as the App runs it.
  const appLike = { maxBytes: 1 << 20, timeoutMs: 5000, network: { ...artifactNetworkFromEnv({}, true), allowHosts: ["127.0.0.1"] } };

  it("refuses a redirect to another host, and never contacts it", async () => {
    const err = await downloadToFile(`${author.url}/to-metadata`, file(), appLike).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/redirected to another host \(127\.0\.0\.2\); refused/);
    expect((err as Error).message).not.toContain(SECRET_SHA);
    expect(metadata.seen).toEqual([]);
  });

  it("refuses a redirect to a link-local address even when that host is listed for redirects", async () => {
    const network = { ...appLike.network, redirectHosts: ["169.254.169.254"] };
    await expect(downloadToFile(`${author.url}/to-link-local`, file(), { ...appLike, network })).rejects.toThrow(/169\.254\.169\.254: .*internal address|internal address \(169\.254\.169\.254\)/);
  });

  it("refuses loopback and private URLs by default, with no request made", async () => {
    const defaults = { maxBytes: 1 << 20, timeoutMs: 5000 };
    await expect(downloadToFile(`${metadata.url}/latest/meta-data/`, file(), defaults)).rejects.toThrow(/internal address \(127\.0\.0\.2\); refused/);
    await expect(downloadToFile("http://10.1.2.3/x", file(), defaults)).rejects.toThrow(/internal address \(10\.1\.2\.3\)/);
    await expect(downloadToFile("http://[::ffff:127.0.0.1]/x", file(), defaults)).rejects.toThrow(/internal address/);
    await expect(downloadToFile("http://localhost:1/x", file(), defaults)).rejects.toThrow(/internal address/);
    expect(metadata.seen).toEqual([]);
  });

  it("follows a same-host redirect, reaches an internal server named in PKGPUB_ARTIFACT_ALLOW_HOSTS, with its credentials", async () => {
    expect((await downloadToFile(`${author.url}/same-host`, file(), appLike)).bytes).toBe(14);
    const network = artifactNetworkFromEnv({ PKGPUB_ARTIFACT_ALLOW_HOSTS: "127.0.0.2, other.example" }, true);
    expect(network.allowHosts).toEqual(["127.0.0.2", "other.example"]);
    const got = await downloadToFile(`${metadata.url}/x`, file(), { ...appLike, network });
    expect(got.sha256).toBe(SECRET_SHA);
    // Per-host credentials still go with the download (http only to loopback 127.0.0.1).
    const auth = new HttpAuth(parseHttpAuthList(`${new URL(author.url).host}=bearer:tok-internal`, {}));
    await downloadToFile(`${author.url}/same-host`, file(), { ...appLike, auth });
    expect(author.seen.slice(-2)).toEqual(["/same-host Bearer tok-internal", "/file Bearer tok-internal"]);
  });

  it("the setting is checked: PKGPUB_ARTIFACT_PUBLIC_ONLY must be 1 or 0", () => {
    expect(artifactNetworkFromEnv({ PKGPUB_ARTIFACT_PUBLIC_ONLY: "0" }, true).publicOnly).toBe(false);
    expect(artifactNetworkFromEnv({}, false).publicOnly).toBe(false);
    expect(() => artifactNetworkFromEnv({ PKGPUB_ARTIFACT_PUBLIC_ONLY: "yes" }, true)).toThrow(/PKGPUB_ARTIFACT_PUBLIC_ONLY must be 1 or 0/);
  });

  it("a publish as the App and the Action run it refuses the loopback artifact server; allowed by name it publishes", async () => {
    const store = new FsStore(path.join(t.dir, "store"));
    const report = await publishJuliaRegistry({ registry: fx.dir, store, cacheDir: path.join(t.dir, "cache") });
    const foo = report.failed.filter((f) => f.package === "Foo");
    expect(foo.length).toBeGreaterThan(0);
    for (const f of foo) expect(f.reason).toMatch(/artifact libdemo .*resolves to an internal address \(127\.0\.0\.1\); refused/);
    expect(await store.head(`artifact/${fx.artifact.treeHash}`)).toBeNull();

    process.env.PKGPUB_ARTIFACT_ALLOW_HOSTS = "127.0.0.1";
    try {
      const again = await publishJuliaRegistry({ registry: fx.dir, store, cacheDir: path.join(t.dir, "cache"), full: true });
      expect(again.failed).toEqual([]);
      expect(await store.head(`artifact/${fx.artifact.treeHash}`)).not.toBeNull();
    } finally {
      delete process.env.PKGPUB_ARTIFACT_ALLOW_HOSTS;
    }
  });
});
