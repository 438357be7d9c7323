import { createPrivateKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeEtf, type EtfMap } from "../../src/hex/etf.js";
import { openPackage } from "../../src/hex/registry.js";
import { publicKeyOf } from "../../src/hex/signing.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores } from "../support/stores.js";
import { newKeyPem, readObject } from "../hex/support/fixtures.js";
import { simpleTarball } from "../hex/support/tarballs.js";
import { docsTarball, hexRequest, KEY, startApiServe, type ServeHandle } from "./support.js";

const s3Env = inject("s3Env");
// rebar3_hex's adapter over httpc (spec §12: read from source, not observed on the wire).
const REBAR3_UA = "hex_core/0.18.0 (rebar3_hex/7.0.8) (httpc) (OTP/25) (erts/13.1.5)";

/**
 * `rebar3 hex publish -r acme` with the repo map's api_url = <host>/api/repos/acme (spec §12):
 * the same hex_core 0.18 routes as mix, but no GET users/me first, Expect: 100-continue
 * without connection: close, and the docs revert without a repository prefix. Replayed in the
 * order rebar3_hex sends them, then the store checked.
 */
describe("rebar3 hex publish -r acme, replayed", () => {
  const tmp = tempDir("api-rebar3-replay-");
  const key = newKeyPem();
  const publicKey = publicKeyOf(createPrivateKey(key.privatePem));
  let store: Store;
  let server: ServeHandle;
  let api: string;
  const r3 = { userAgent: REBAR3_UA, key: KEY, connection: "keep-alive" } as const;

  beforeAll(async () => {
    const opened = await openTestStores("directory", tmp.dir, s3Env);
    store = opened.store;
    server = await startApiServe(tmp.dir, opened.spec, opened.env, key.privatePem);
    api = `${server.url}/api/repos/acme`;
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it("publish (no users/me, 100-continue on a keep-alive connection), then docs", async () => {
    const res = await hexRequest(`${api}/packages/r3pkg/releases?replace=false`, { ...r3, method: "POST", body: simpleTarball("r3pkg", "1.0.0"), expectContinue: true });
    expect(res.continued).toBe(true);
    expect(res.status).toBe(201);
    // rebar3_hex prints "Published r3pkg 1.0.0" on any 2xx; the body is still a release map.
    expect(res.term).toMatchObject({ version: "1.0.0", retirement: null });
    const docs = await hexRequest(`${api}/packages/r3pkg/releases/1.0.0/docs`, { ...r3, method: "POST", body: docsTarball({ "index.html": "<h1>r3pkg</h1>" }) });
    expect(docs.status).toBe(201);
    expect(await store.head("repos/acme/docs/r3pkg-1.0.0.tar.gz")).not.toBeNull();
  });

  it("retire and unretire (rebar3 hex retire r3pkg 1.0.0 deprecated --message …)", async () => {
    const retire = await hexRequest(`${api}/packages/r3pkg/releases/1.0.0/retire`, { ...r3, method: "POST", body: encodeEtf({ message: "use 2.x", reason: "deprecated" }), contentType: "application/vnd.hex+erlang" });
    expect(retire.status).toBe(204);
    const pkg = () => readObject(store, "repos/acme/packages/r3pkg").then((b) => openPackage(b, publicKey, "acme", "r3pkg", "packages/r3pkg"));
    expect((await pkg()).releases[0]!.retired).toEqual({ reason: "deprecated", message: "use 2.x" });
    expect((await hexRequest(`${api}/packages/r3pkg/releases/1.0.0/retire`, { ...r3, method: "DELETE" })).status).toBe(204);
    expect((await pkg()).releases[0]!.retired).toBeUndefined();
  });

  it("docs revert comes without the repository prefix: fine with api_url …/api/repos/acme, a 404 saying how to name the repository otherwise", async () => {
    // api_url = <host>/api/repos/acme: the prefix is part of api_url itself.
    expect((await hexRequest(`${api}/packages/r3pkg/releases/1.0.0/docs`, { ...r3, method: "DELETE" })).status).toBe(204);
    expect(await store.head("repos/acme/docs/r3pkg-1.0.0.tar.gz")).toBeNull();
    // api_url = <host>/api with api_repository = acme: rebar3_hex drops the prefix on this call.
    const bare = await hexRequest(`${server.url}/api/packages/r3pkg/releases/1.0.0/docs`, { ...r3, method: "DELETE" });
    expect(bare.status).toBe(404);
    expect(String((bare.term as EtfMap).message)).toContain("api_url ending in /api/repos/<repo>");
  });

  it("revert (rebar3 hex publish --revert 1.0.0)", async () => {
    expect((await hexRequest(`${api}/packages/r3pkg/releases/1.0.0`, { ...r3, method: "DELETE" })).status).toBe(204);
    expect(await store.head("repos/acme/tarballs/r3pkg-1.0.0.tar")).toBeNull();
  });
});
