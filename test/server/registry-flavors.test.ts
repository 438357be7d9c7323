// Registry flavours on the proxy (spec §2.5): /registries redirects as PkgServer does, each
// flavour is its own listing from the store, merged per flavour with the upstream's, and a
// store without a conservative listing stays flavourless.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { PassThrough } from "node:stream";
import { FsStore } from "../../src/store/fs-store.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../support/serve.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "./fake-upstream.js";
import { publishJuliaRegistry } from "../../src/publish/julia-publish.js";
import { BAR_UUID, makeRegistryFixture, REGISTRY_UUID, versionsToml, type RegistryFixture } from "../julia/fixtures.js";
import { commitFiles, git } from "../support/git-repo.js";
import { raw } from "./http-client.js";

const OWN = "0a1b2c3d-0000-4000-8000-00000000000a";
const GENERAL = "23338594-aafe-5451-b93e-139f81909106";
const OLD = "a".repeat(40); // every version stored
const NEW = "b".repeat(40); // names a version that failed to build
const line = (uuid: string, tree: string) => `/registry/${uuid}/${tree}\n`;

describe("registry flavours", () => {
  const t = tempDir("pkgpub-flavours-");
  const servers: TestServer[] = [];
  let flavoured: FsStore;
  let flavourless: FsStore;
  let upstream: FakeUpstream;
  let n = 0;

  async function serve(store: FsStore, extra: Partial<TestServerOptions> = {}): Promise<TestServer> {
    const s = await startTestServer({ store, port: 0, log: new PassThrough(), cache: { dir: path.join(t.dir, `cache-${n++}`) }, ...extra });
    servers.push(s);
    return s;
  }

  beforeAll(async () => {
    flavoured = new FsStore(path.join(t.dir, "flavoured"));
    await flavoured.put("registries", line(OWN, NEW));
    await flavoured.put("registries.conservative", line(OWN, OLD));
    flavourless = new FsStore(path.join(t.dir, "flavourless"));
    await flavourless.put("registries", line(OWN, NEW));
    upstream = await FakeUpstream.start();
  });
  afterEach(async () => {
    while (servers.length) await servers.pop()!.close();
    upstream.routes.clear();
  });
  afterAll(async () => {
    await upstream.close();
    t.cleanup();
  });

  it("redirects /registries by Julia-Registry-Preference, else eager for CI clients, else conservative", async () => {
    const s = await serve(flavoured);
    const where = async (headers: Record<string, string>) => {
      const res = await raw(s.url, "/registries", { headers });
      expect(res.status).toBe(302);
      return res.headers.location;
    };
    expect(await where({})).toBe("registries.conservative");
    expect(await where({ "Julia-CI-Variables": "APPVEYOR=n;CI=n;GITHUB_ACTIONS=f;TRAVIS=o" })).toBe("registries.conservative");
    expect(await where({ "Julia-CI-Variables": "APPVEYOR=n;CI=t;GITHUB_ACTIONS=t" })).toBe("registries.eager");
    expect(await where({ "Julia-Registry-Preference": "eager" })).toBe("registries.eager");
    expect(await where({ "Julia-Registry-Preference": "conservative", "Julia-CI-Variables": "CI=t" })).toBe("registries.conservative");
    const bad = await raw(s.url, "/registries", { headers: { "Julia-Registry-Preference": "newest" } });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain("Julia-Registry-Preference");
    // the server keeps serving after the bad request
    expect((await raw(s.url, "/registries.eager")).status).toBe(200);
  });

  it("each flavour is its own listing: conservative clients never see the commit with the failed version", async () => {
    const s = await serve(flavoured);
    const eager = await raw(s.url, "/registries.eager");
    expect(eager.status).toBe(200);
    expect(eager.headers["content-type"]).toContain("text/plain");
    expect(eager.body.toString()).toBe(line(OWN, NEW));
    expect((await raw(s.url, "/registries.conservative")).body.toString()).toBe(line(OWN, OLD));
    // A client that follows the redirect (as Downloads.jl does) ends at its flavour.
    expect(await (await fetch(`${s.url}/registries`)).text()).toBe(line(OWN, OLD));
    expect(await (await fetch(`${s.url}/registries`, { headers: { "Julia-CI-Variables": "CI=t" } })).text()).toBe(line(OWN, NEW));
    expect((await raw(s.url, "/registries.newest")).status).toBe(404);
  });

  it("a store without a conservative listing is flavourless: one listing under all three paths", async () => {
    const s = await serve(flavourless);
    for (const p of ["/registries", "/registries.eager", "/registries.conservative"]) {
      const res = await raw(s.url, p);
      expect(res.status, p).toBe(200);
      expect(res.body.toString(), p).toBe(line(OWN, NEW));
    }
  });

  it("merges each flavour with the upstream's same flavour", async () => {
    upstream.bytes("/registries.eager", Buffer.from(line(GENERAL, "e".repeat(40))));
    upstream.bytes("/registries.conservative", Buffer.from(line(GENERAL, "c".repeat(40))));
    upstream.bytes("/registries", Buffer.from(line(GENERAL, "f".repeat(40))));
    const s = await serve(flavoured, { julia: { upstream: upstream.url, registriesTtl: 60 } });
    expect((await raw(s.url, "/registries")).status).toBe(302);
    expect((await raw(s.url, "/registries.eager")).body.toString()).toBe(line(OWN, NEW) + line(GENERAL, "e".repeat(40)));
    expect((await raw(s.url, "/registries.conservative")).body.toString()).toBe(line(OWN, OLD) + line(GENERAL, "c".repeat(40)));
  });

  it("a flavourless upstream's one listing is merged into both flavours; a flavourless store's too", async () => {
    upstream.bytes("/registries", Buffer.from(line(GENERAL, "f".repeat(40))));
    const s = await serve(flavoured, { julia: { upstream: upstream.url, registriesTtl: 60 } });
    expect((await raw(s.url, "/registries.eager")).body.toString()).toBe(line(OWN, NEW) + line(GENERAL, "f".repeat(40)));
    expect((await raw(s.url, "/registries.conservative")).body.toString()).toBe(line(OWN, OLD) + line(GENERAL, "f".repeat(40)));
    const s2 = await serve(flavourless, { julia: { upstream: upstream.url, registriesTtl: 60 } });
    expect((await raw(s2.url, "/registries")).body.toString()).toBe(line(OWN, NEW) + line(GENERAL, "f".repeat(40)));
    expect((await raw(s2.url, "/registries.conservative")).body.toString()).toBe(line(OWN, NEW) + line(GENERAL, "f".repeat(40)));
  });

  it("the browse page says which tree conservative clients get when it is behind", async () => {
    const page = (await raw((await serve(flavoured)).url, "/")).body.toString();
    expect(page).toContain(`Conservative clients (Pkg's default outside CI) get an older state of this registry (tree <code>${OLD}</code>)`);
    expect(page).toContain(`CI clients get the newest (tree <code>${NEW}</code>)`);
    const plain = (await raw((await serve(flavourless)).url, "/")).body.toString();
    expect(plain).toContain("Point Julia at this server");
    expect(plain).not.toContain("Conservative clients");
  });

  it("a token for the Julia routes reads every flavour", async () => {
    const token = "t0k3n-julia-flavours-0123456789";
    const s = await serve(flavoured, { tokens: [{ name: "julia-ci", token, scopes: ["julia"] }] });
    const auth = { Authorization: `Bearer ${token}` };
    expect((await raw(s.url, "/registries.eager", { headers: auth })).status).toBe(200);
    expect((await raw(s.url, "/registries.conservative", { headers: auth })).status).toBe(200);
    expect((await raw(s.url, "/registries", { headers: auth })).status).toBe(302);
    expect((await raw(s.url, "/registries.eager")).status).toBe(401);
  });
});

describe("registry flavours after a publish where a version failed to build", () => {
  const t = tempDir("pkgpub-flavours-publish-");
  let fx: RegistryFixture;
  let server: TestServer;
  let good: string;
  let broken: string;

  beforeAll(async () => {
    fx = await makeRegistryFixture(t.dir);
    const store = new FsStore(path.join(t.dir, "store"));
    // The fixture's artifacts come from a loopback server, refused by default: allowed here.
    const network = { publicOnly: false, allowHosts: [], redirectHosts: [] };
    const publish = () => publishJuliaRegistry({ registry: fx.dir, store, cacheDir: path.join(t.dir, "cache"), limits: { network } });
    expect((await publish()).failed).toEqual([]);
    good = git(fx.dir, "rev-parse", "HEAD^{tree}");
    const missing = "0123456789abcdef0123456789abcdef01234567";
    commitFiles(fx.dir, { "B/Bar/Versions.toml": versionsToml([{ version: "1.0.0", tree: fx.barTree }, { version: "1.1.0", tree: missing }]) }, "New version: Bar v1.1.0");
    const r = await publish();
    expect(r.failed.map((f) => `${f.package} v${f.version}`)).toEqual(["Bar v1.1.0"]);
    expect(r.registry.conservative).toBe("held-back");
    broken = git(fx.dir, "rev-parse", "HEAD^{tree}");
    server = await startTestServer({ store, port: 0, log: new PassThrough() });
  });
  afterAll(async () => {
    await server?.close();
    await fx?.artifactServer.close();
    t.cleanup();
  });

  it("a Pkg client outside CI is sent to the commit before it; a CI client gets the newest", async () => {
    const pkgHeaders = { "Julia-Pkg-Protocol": "1.0", "Julia-CI-Variables": "APPVEYOR=n;CI=n;GITHUB_ACTIONS=n;TRAVIS=n" };
    expect(await (await fetch(`${server.url}/registries`, { headers: pkgHeaders })).text()).toBe(`/registry/${REGISTRY_UUID}/${good}\n`);
    const ci = { ...pkgHeaders, "Julia-CI-Variables": "CI=t;GITHUB_ACTIONS=t" };
    expect(await (await fetch(`${server.url}/registries`, { headers: ci })).text()).toBe(`/registry/${REGISTRY_UUID}/${broken}\n`);
    // Both registry trees are served; the conservative one names nothing the store lacks.
    expect((await raw(server.url, `/registry/${REGISTRY_UUID}/${good}`)).status).toBe(200);
    expect((await raw(server.url, `/registry/${REGISTRY_UUID}/${broken}`)).status).toBe(200);
    expect((await raw(server.url, `/package/${BAR_UUID}/${fx.barTree}`)).status).toBe(200);
    expect((await raw(server.url, `/package/${BAR_UUID}/0123456789abcdef0123456789abcdef01234567`)).status).toBe(404);
  });
});
