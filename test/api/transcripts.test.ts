import { createHash, createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeEtf, type EtfMap } from "../../src/hex/etf.js";
import { openPackage, openVersions } from "../../src/hex/registry.js";
import { publicKeyOf } from "../../src/hex/signing.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { newKeyPem, readObject } from "../hex/support/fixtures.js";
import { simpleTarball } from "../hex/support/tarballs.js";
import { docsTarball, hex, hexRequest, KEY, NO_REPLACE, READER, startApiServe, type ServeHandle } from "./support.js";

const s3Env = inject("s3Env");

/** §14.2 R1: the retire body Hex 2.5.1 sent, byte for byte. */
const R1 = hex("8374000000026d000000076d6573736167656d000000016d6d00000006726561736f6e6d000000087365637572697479");

/**
 * The spec's transcripts (hex-http-api.md §14, §15) replayed against a real `pkgpub serve`
 * with the Hex API on: each request as Hex 2.5.1 sent it, each answer decoded as the client
 * decodes it and checked for what the client reads; then the store checked for what a Hex
 * repository client would fetch.
 */
describe.each<StoreKind>(["directory", "s3"])("Hex API transcripts (%s store)", (kind) => {
  const tmp = tempDir("api-transcripts-");
  const key = newKeyPem();
  const publicKey = publicKeyOf(createPrivateKey(key.privatePem));
  let store: Store;
  let server: ServeHandle;
  let api: string;
  const tiny = simpleTarball("acme_tiny", "0.1.0");
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const pkgOf = async () => openPackage(await readObject(store, "repos/acme/packages/acme_tiny"), publicKey, "acme", "acme_tiny", "packages/acme_tiny");
  const versionsOf = async () => openVersions(await readObject(store, "repos/acme/versions"), publicKey, "acme", "versions");

  beforeAll(async () => {
    const opened = await openTestStores(kind, tmp.dir, s3Env);
    store = opened.store;
    server = await startApiServe(tmp.dir, opened.spec, opened.env, key.privatePem);
    api = `${server.url}/api/repos/acme`;
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it("T1: users/me then publish with Expect: 100-continue (MiniRepo-style api_url)", async () => {
    const me = await hexRequest(`${api}/users/me`);
    expect(me.status).toBe(200);
    expect(me.headers["content-type"]).toContain("application/vnd.hex+erlang");
    expect(me.term).toMatchObject({ username: "ci", organizations: [] });

    const res = await hexRequest(`${api}/packages/acme_tiny/releases?replace=false`, { method: "POST", body: tiny, expectContinue: true });
    expect(res.continued).toBe(true);
    expect(res.status).toBe(201);
    const body = res.term as EtfMap;
    // The client prints html_url || url.
    expect(body.html_url).toBeNull();
    expect(body.url).toBe(`${api}/packages/acme_tiny/releases/0.1.0`);
    expect(body.checksum).toBe(sha(tiny));
    expect(body.retirement).toBeNull();
    expect((body.configs as EtfMap)["mix.exs"]).toBe('{:acme_tiny, "~> 0.1.0"}');
    expect(Buffer.from(await readObject(store, "repos/acme/tarballs/acme_tiny-0.1.0.tar")).equals(Buffer.from(tiny))).toBe(true);
    expect((await pkgOf()).releases.map((r) => r.version)).toEqual(["0.1.0"]);
    expect((await versionsOf()).packages).toEqual([{ name: "acme_tiny", versions: ["0.1.0"], retired: [] }]);
    // The repository side serves it as any published package, behind the read token.
    const names = await fetch(`${server.url}/repos/acme/names`, { headers: { authorization: READER } });
    expect(names.status).toBe(200);
  });

  it("T2: HEX_API_URL=<host>/api with --organization acme: users/me without the prefix", async () => {
    const me = await hexRequest(`${server.url}/api/users/me`, { key: KEY });
    expect(me.status).toBe(200);
    const t = simpleTarball("acme_tiny", "0.2.0");
    const res = await hexRequest(`${server.url}/api/repos/acme/packages/acme_tiny/releases?replace=false`, { method: "POST", body: t, expectContinue: true });
    expect(res.status).toBe(201);
    // No repository named: the answer says how to name one.
    const bare = await hexRequest(`${server.url}/api/packages/acme_tiny`);
    expect(bare.status).toBe(404);
    expect(String((bare.term as EtfMap).message)).toContain("/api/repos/<repo>");
  });

  it("T7: a trailing slash in api_url (// in the path) works", async () => {
    expect((await hexRequest(`${api}//users/me`)).status).toBe(200);
    const res = await hexRequest(`${api}//packages/acme_tiny/releases?replace=false`, { method: "POST", body: simpleTarball("acme_tiny", "0.3.0"), expectContinue: true });
    expect(res.status).toBe(201);
    expect((await pkgOf()).releases.map((r) => r.version)).toEqual(["0.1.0", "0.2.0", "0.3.0"]);
  });

  it("publishing the same bytes again is 200 and writes nothing; other bytes need --replace (E422)", async () => {
    const again = await hexRequest(`${api}/packages/acme_tiny/releases?replace=false`, { method: "POST", body: tiny, expectContinue: true });
    expect(again.status).toBe(200);
    const other = simpleTarball("acme_tiny", "0.1.0", [{ name: "foo", app: "foo", requirement: "~> 1.0", optional: false }]);
    const refused = await hexRequest(`${api}/packages/acme_tiny/releases?replace=false`, { method: "POST", body: other, expectContinue: true });
    expect(refused.status).toBe(422);
    expect(refused.term).toMatchObject({ status: 422, message: "Validation error(s)" });
    expect(String(((refused.term as EtfMap).errors as EtfMap).inserted_at)).toContain("must include the --replace flag to update an existing release");
    // A token without the replace right may not, even with --replace.
    const noRight = await hexRequest(`${api}/packages/acme_tiny/releases?replace=true`, { method: "POST", body: other, key: NO_REPLACE, expectContinue: true });
    expect(noRight.status).toBe(403);
    expect(String((noRight.term as EtfMap).message)).toContain("may not replace");
    expect(sha(await readObject(store, "repos/acme/tarballs/acme_tiny-0.1.0.tar"))).toBe(sha(tiny));
  });

  it("--replace by a token allowed to: 200 and an API warning that the old checksum is gone", async () => {
    const other = simpleTarball("acme_tiny", "0.3.0", [{ name: "foo", app: "foo", requirement: "~> 1.0", optional: false }]);
    const before = sha(await readObject(store, "repos/acme/tarballs/acme_tiny-0.3.0.tar"));
    const res = await hexRequest(`${api}/packages/acme_tiny/releases?replace=true`, { method: "POST", body: other, expectContinue: true });
    expect(res.status).toBe(200);
    expect(res.headers["x-hex-message"]).toMatch(/^".*is gone.*"; level=warn$/);
    expect(res.headers["x-hex-message"]).toContain(before);
    const rel = (await pkgOf()).releases.find((r) => r.version === "0.3.0")!;
    expect(Buffer.from(rel.outerChecksum).toString("hex")).toBe(sha(other));
    expect(rel.dependencies).toEqual([{ package: "foo", requirement: "~> 1.0" }]);
  });

  it("T3: docs publish answers 201 + location; the pages are served sandboxed; the tarball where mix hex.docs fetch looks", async () => {
    const docs = docsTarball({ "index.html": "<h1>acme_tiny</h1>", "extra.html": "<p>extra</p>", "dist/app.js": "1;" });
    const res = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/docs`, { method: "POST", body: docs });
    expect(res.status).toBe(201);
    const location = String(res.headers.location);
    expect(location).toBe(`${server.url}/docs/acme/acme_tiny/0.1.0/`);
    const page = await fetch(location, { headers: { authorization: READER } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe("<h1>acme_tiny</h1>");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toMatch(/^sandbox /);
    expect(page.headers.get("content-security-policy")).not.toContain("allow-same-origin");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await fetch(`${server.url}/docs/acme/acme_tiny/0.1.0/dist/app.js`, { headers: { authorization: READER } })).headers.get("content-type")).toContain("javascript");
    // Behind the repository's read tokens.
    expect((await fetch(location)).status).toBe(401);
    // The newest version with docs, by redirect.
    const docs2 = await hexRequest(`${api}/packages/acme_tiny/releases/0.2.0/docs`, { method: "POST", body: docsTarball({ "index.html": "v2" }) });
    expect(docs2.status).toBe(201);
    const latest = await fetch(`${server.url}/docs/acme/acme_tiny/`, { headers: { authorization: READER }, redirect: "manual" });
    expect(latest.status).toBe(302);
    expect(latest.headers.get("location")).toBe("/docs/acme/acme_tiny/0.2.0/");
    const raw = await fetch(`${server.url}/repos/acme/docs/acme_tiny-0.1.0.tar.gz`, { headers: { authorization: READER } });
    expect(Buffer.from(await raw.arrayBuffer()).equals(docs)).toBe(true);
    // Docs for a release that does not exist: the 404 mix words as "not published yet".
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/9.9.9/docs`, { method: "POST", body: docs })).status).toBe(404);
  });

  it("T5: retire with the exact R1 body, then unretire", async () => {
    expect(Buffer.from(encodeEtf({ message: "m", reason: "security" })).equals(R1)).toBe(true);
    const res = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/retire`, { method: "POST", body: R1, contentType: "application/vnd.hex+erlang" });
    expect(res.status).toBe(204);
    expect((await pkgOf()).releases.find((r) => r.version === "0.1.0")!.retired).toEqual({ reason: "security", message: "m" });
    expect((await versionsOf()).packages[0]!.retired).toEqual([0]);
    const shown = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0`);
    expect((shown.term as EtfMap).retirement).toEqual({ reason: "security", message: "m" });
    const info = await hexRequest(`${api}/packages/acme_tiny`);
    expect((info.term as EtfMap).retirements).toEqual({ "0.1.0": { reason: "security", message: "m" } });

    const un = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/retire`, { method: "DELETE" });
    expect(un.status).toBe(204);
    expect((await pkgOf()).releases.find((r) => r.version === "0.1.0")!.retired).toBeUndefined();
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0`)).term).toMatchObject({ retirement: null });
    // An unknown reason is a 422 naming the field; nothing changes.
    const bad = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/retire`, { method: "POST", body: encodeEtf({ reason: "bored", message: "x" }), contentType: "application/vnd.hex+erlang" });
    expect(bad.status).toBe(422);
    expect(((bad.term as EtfMap).errors as EtfMap).retirement).toHaveProperty("reason");
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/9.9.9/retire`, { method: "POST", body: R1, contentType: "application/vnd.hex+erlang" })).status).toBe(404);
  });

  it("T6: hex.info, hex.info VERSION, owners, package search, as the client reads them", async () => {
    const info = await hexRequest(`${api}/packages/acme_tiny`, { key: READER });
    expect(info.status).toBe(200);
    const p = info.term as EtfMap;
    expect(typeof (p.configs as EtfMap)["mix.exs"]).toBe("string");
    expect(p.meta).toMatchObject({ description: "acme_tiny package", licenses: ["MIT"] });
    expect((p.releases as EtfMap[]).map((r) => r.version)).toEqual(["0.3.0", "0.2.0", "0.1.0"]);

    const rel = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0`, { key: READER });
    expect(rel.status).toBe(200);
    expect(rel.term).toMatchObject({ version: "0.1.0", retirement: null, has_docs: true, checksum: sha(tiny) });
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/4.0.0`)).status).toBe(404);
    expect((await hexRequest(`${api}/packages/nope`)).status).toBe(404);

    const owners = await hexRequest(`${api}/packages/acme_tiny/owners`);
    expect(owners.term).toEqual([{ username: "ci", level: "full" }, { username: "dev", level: "full" }]);

    const search = await hexRequest(`${api}/packages?search=acme&sort=downloads`);
    expect(search.status).toBe(200);
    expect(search.term).toMatchObject([{ name: "acme_tiny", repository: "acme", releases: [{ version: "0.3.0" }, { version: "0.2.0" }, { version: "0.1.0" }] }]);
    expect((await hexRequest(`${api}/packages?search=zzz&sort=downloads`)).term).toEqual([]);
    // Reads need a token when tokens guard the server (§14.4 #27: the client prints the auth error).
    expect((await hexRequest(`${api}/packages/acme_tiny`, { key: null })).status).toBe(401);
  });

  it("T4: revert docs (then 404: 'Docs do not exist'), revert a release", async () => {
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/0.2.0/docs`, { method: "DELETE" })).status).toBe(204);
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/0.2.0/docs`, { method: "DELETE" })).status).toBe(404);
    expect(await store.head("repos/acme/docs/acme_tiny-0.2.0.tar.gz")).toBeNull();

    const res = await hexRequest(`${api}/packages/acme_tiny/releases/0.3.0`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect((await pkgOf()).releases.map((r) => r.version)).toEqual(["0.1.0", "0.2.0"]);
    expect((await versionsOf()).packages[0]!.versions).toEqual(["0.1.0", "0.2.0"]);
    expect(await store.head("repos/acme/tarballs/acme_tiny-0.3.0.tar")).toBeNull();
    expect((await hexRequest(`${api}/packages/acme_tiny/releases/0.3.0`, { method: "DELETE" })).status).toBe(404);
    // The version can be published again after a revert.
    expect((await hexRequest(`${api}/packages/acme_tiny/releases?replace=false`, { method: "POST", body: simpleTarball("acme_tiny", "0.3.0"), expectContinue: true })).status).toBe(201);
  });

  it("E401 for a missing or unknown key, answered before 100 Continue", async () => {
    const wrong = await hexRequest(`${api}/packages/acme_tiny/releases?replace=false`, { method: "POST", body: tiny, key: "wrong", expectContinue: true });
    expect(wrong.status).toBe(401);
    expect(wrong.continued).toBe(false);
    expect(wrong.term).toEqual({ status: 401, message: "invalid API key" });
    const none = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/retire`, { method: "DELETE", key: null });
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toBeUndefined();
    // The server goes on serving.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
