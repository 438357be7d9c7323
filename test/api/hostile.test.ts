import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeEtf, type EtfMap } from "../../src/hex/etf.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { openTestStores, type StoreKind } from "../support/stores.js";
import { newKeyPem, snapshot } from "../hex/support/fixtures.js";
import { metadataText, rawTarball, simpleTarball } from "../hex/support/tarballs.js";
import { closedBy, openSocket, readAnswer, requestHead } from "./raw-http.js";
import { docsTarball, hexRequest, KEY, NO_REPLACE, OTHER_REPO, READER, startApiServe, type ServeHandle } from "./support.js";

const s3Env = inject("s3Env");
const CAP = 16 * 1024 * 1024;

/**
 * The Hex API door under requests that must be refused: wrong, missing and misplaced keys,
 * uploads over the cap (refused before a body byte is read), uploads cut off midway, docs that
 * reach out of their root, bad tarballs, a replace without the right. Each answer is checked as
 * the client prints it (status, message, the field named), then the store is checked to be
 * exactly as before, and the server to be still serving.
 */
describe.each<StoreKind>(["directory", "s3"])("Hex API refusals (%s store)", (kind) => {
  const tmp = tempDir("api-hostile-");
  const key = newKeyPem();
  let store: Store;
  let server: ServeHandle;
  let api: string;
  const tiny = simpleTarball("acme_tiny", "0.1.0");
  const publish = (body: Uint8Array, extra: Parameters<typeof hexRequest>[1] = {}) =>
    hexRequest(`${api}/packages/acme_tiny/releases?replace=false`, { method: "POST", body, expectContinue: true, ...extra });

  /** Runs `act`, then checks that the store holds exactly what it held before and the server still answers. */
  async function writesNothing(act: () => Promise<void>): Promise<void> {
    const before = await snapshot(store);
    await act();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await snapshot(store)).toEqual(before);
  }

  beforeAll(async () => {
    const opened = await openTestStores(kind, tmp.dir, s3Env);
    store = opened.store;
    server = await startApiServe(tmp.dir, opened.spec, opened.env, key.privatePem);
    api = `${server.url}/api/repos/acme`;
    expect((await publish(tiny)).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it("a missing key: 401 naming where the key goes, before 100 Continue", async () => {
    await writesNothing(async () => {
      const res = await publish(simpleTarball("acme_tiny", "0.2.0"), { key: null });
      expect(res.status).toBe(401);
      expect(res.continued).toBe(false);
      expect(String((res.term as EtfMap).message)).toMatch(/^missing API key: set api_key .*HEX_API_KEY/);
      expect(res.headers["www-authenticate"]).toBeUndefined();
    });
  });

  it("a wrong key (raw or Bearer): 401 invalid API key, for every write", async () => {
    await writesNothing(async () => {
      for (const k of ["wrong", `Bearer wrong`, `${KEY}x`, KEY.slice(0, -1)]) {
        const res = await publish(simpleTarball("acme_tiny", "0.2.0"), { key: k });
        expect(res.status, k).toBe(401);
        expect(res.continued).toBe(false);
        expect(res.term).toEqual({ status: 401, message: "invalid API key" });
      }
      const retire = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/retire`, { method: "DELETE", key: "wrong" });
      expect(retire.status).toBe(401);
      const revert = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0`, { method: "DELETE", key: "wrong" });
      expect(revert.status).toBe(401);
      const docs = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/docs`, { method: "POST", body: docsTarball({ "index.html": "x" }), key: "wrong" });
      expect(docs.status).toBe(401);
      // The secret of a key never comes back in an answer.
      expect(docs.body.includes(Buffer.from(KEY))).toBe(false);
    });
    // A Bearer form of the right key is accepted (clients that send the OAuth style).
    expect((await hexRequest(`${api}/packages/acme_tiny`, { key: `Bearer ${KEY}` })).status).toBe(200);
  });

  it("a key for another repository, or one that may only read: 403 naming the key and the repository", async () => {
    await writesNothing(async () => {
      const res = await publish(simpleTarball("acme_tiny", "0.2.0"), { key: OTHER_REPO });
      expect(res.status).toBe(403);
      expect(res.continued).toBe(false);
      expect(res.term).toEqual({ status: 403, message: "key beta-ci is not allowed to publish to repository acme" });
      for (const [method, path, body] of [
        ["POST", "/packages/acme_tiny/releases/0.1.0/retire", undefined],
        ["DELETE", "/packages/acme_tiny/releases/0.1.0/retire", undefined],
        ["DELETE", "/packages/acme_tiny/releases/0.1.0", undefined],
        ["POST", "/packages/acme_tiny/releases/0.1.0/docs", docsTarball({ "index.html": "x" })],
        ["DELETE", "/packages/acme_tiny/releases/0.1.0/docs", undefined],
      ] as const) {
        const r = await hexRequest(`${api}${path}`, { method, key: OTHER_REPO, ...(body ? { body } : {}) });
        expect(r.status, `${method} ${path}`).toBe(403);
        expect((r.term as EtfMap).message).toBe("key beta-ci is not allowed to publish to repository acme");
      }
      const reads = await hexRequest(`${api}/packages/acme_tiny`, { key: OTHER_REPO });
      expect(reads.status).toBe(403);
      expect((reads.term as EtfMap).message).toBe("key beta-ci may not read repository acme");
      const reader = await publish(simpleTarball("acme_tiny", "0.2.0"), { key: READER });
      expect(reader.status).toBe(403);
      expect((reader.term as EtfMap).message).toBe("key reader is not allowed to publish to repository acme");
    });
  });

  it("a repository with no write door: 404 saying so", async () => {
    await writesNothing(async () => {
      const res = await hexRequest(`${server.url}/api/repos/gamma/packages/acme_tiny/releases?replace=false`, { method: "POST", body: tiny, expectContinue: true });
      expect(res.status).toBe(404);
      expect(res.continued).toBe(false);
      expect(String((res.term as EtfMap).message)).toContain("repository gamma takes no API writes on this server");
    });
  });

  it("a tarball over the cap with Expect: 100-continue: 413 instead of 100 Continue, the body never sent", async () => {
    await writesNothing(async () => {
      const res = await publish(new Uint8Array(CAP + 1));
      expect(res.status).toBe(413);
      expect(res.continued).toBe(false);
      expect(res.term).toMatchObject({ status: 413, message: "Payload too large" });
      expect(String(((res.term as EtfMap).errors as EtfMap).tar)).toBe(`too big (${CAP + 1} bytes; at most ${CAP})`);
      expect(res.headers.connection).toBe("close");
      // Docs have the same cap (mix sends them without Expect: the answer comes before the body is read).
      const socket = await openSocket(server.url);
      const answer = readAnswer(socket);
      socket.write(requestHead(`${api}/packages/acme_tiny/releases/0.1.0/docs`, "POST", { authorization: KEY, "content-type": "application/octet-stream", "content-length": String(CAP + 1) }));
      const docs = await answer;
      expect(docs.statuses).toEqual([413]);
      expect(String(((docs.term as EtfMap).errors as EtfMap).tar)).toContain("too big");
    });
  });

  it("a declared size over the cap without Expect: 413 before any body byte is sent, and the connection closed", async () => {
    await writesNothing(async () => {
      const socket = await openSocket(server.url);
      const answer = readAnswer(socket);
      socket.write(requestHead(`${api}/packages/acme_tiny/releases?replace=false`, "POST", { authorization: KEY, "content-type": "application/octet-stream", "content-length": String(64 * CAP) }));
      const res = await answer;
      expect(res.statuses).toEqual([413]);
      expect(res.headers.connection).toBe("close");
      expect(String(((res.term as EtfMap).errors as EtfMap).tar)).toContain(`at most ${CAP}`);
      expect(await closedBy(socket, 10_000)).toBe(true);
    });
  });

  it("an upload cut off midway (client hangs up after half the body) leaves nothing behind", async () => {
    const next = simpleTarball("acme_tiny", "0.5.0");
    await writesNothing(async () => {
      for (const expectContinue of [true, false]) {
        const socket = await openSocket(server.url);
        const answer = readAnswer(socket).catch(() => null);
        const headers: Record<string, string> = { authorization: KEY, "content-type": "application/octet-stream", "content-length": String(next.length), connection: "close" };
        if (expectContinue) headers.expect = "100-continue";
        socket.write(requestHead(`${api}/packages/acme_tiny/releases?replace=false`, "POST", headers));
        if (expectContinue) {
          // Wait for 100 Continue: the server took the headers and now waits for the body.
          await new Promise<void>((resolve) => socket.once("data", (c: Buffer) => (expect(c.toString("latin1")).toMatch(/^HTTP\/1\.1 100 Continue/), resolve())));
        }
        await new Promise<void>((resolve) => socket.write(next.subarray(0, next.length >> 1), () => resolve()));
        socket.destroy();
        await answer;
      }
      // Docs cut off the same way.
      const docs = docsTarball({ "index.html": "x".repeat(50_000) });
      const socket = await openSocket(server.url);
      socket.write(requestHead(`${api}/packages/acme_tiny/releases/0.1.0/docs`, "POST", { authorization: KEY, "content-type": "application/octet-stream", "content-length": String(docs.length) }));
      await new Promise<void>((resolve) => socket.write(docs.subarray(0, docs.length >> 1), () => resolve()));
      socket.destroy();
    });
    // The same release sent whole is a new release (201), not "unchanged": no part of it was stored.
    expect((await publish(next)).status).toBe(201);
    expect(await store.head("repos/acme/docs/acme_tiny-0.1.0.tar.gz")).toBeNull();
  });

  it("docs whose members reach out of their root: 422 naming the member under tar", async () => {
    await writesNothing(async () => {
      const cases: Array<[Buffer, string]> = [
        [docsTarball({ "index.html": "ok", "../evil.html": "x" }), '"../evil.html" contains ".."'],
        [docsTarball({ "index.html": "ok", "a/../../evil.html": "x" }), '"a/../../evil.html" contains ".."'],
        [docsTarball({ "index.html": "ok", "/etc/evil.html": "x" }), '"/etc/evil.html" is an absolute path'],
        [docsTarball({ "index.html": "ok" }, [{ path: "link.html", type: "symlink", mode: 0o777, data: new Uint8Array(0), linkname: "../../../etc/passwd" }]), '"link.html" is a link'],
        [Buffer.from("not gzip at all"), "not gzip data"],
      ];
      for (const [body, why] of cases) {
        const res = await hexRequest(`${api}/packages/acme_tiny/releases/0.1.0/docs`, { method: "POST", body });
        expect(res.status, why).toBe(422);
        expect(res.term).toMatchObject({ status: 422, message: "Validation error(s)" });
        expect(String(((res.term as EtfMap).errors as EtfMap).tar), why).toContain(why);
      }
    });
  });

  it("a replace without the right: 403 naming the right and the checksum that would be lost", async () => {
    const other = simpleTarball("acme_tiny", "0.1.0", [{ name: "foo", app: "foo", requirement: "~> 1.0", optional: false }]);
    await writesNothing(async () => {
      const res = await publish(other, { key: NO_REPLACE });
      expect(res.status).toBe(422);
      const replace = await hexRequest(`${api}/packages/acme_tiny/releases?replace=true`, { method: "POST", body: other, key: NO_REPLACE, expectContinue: true });
      expect(replace.status).toBe(403);
      const message = String((replace.term as EtfMap).message);
      expect(message).toContain("key dev may not replace releases in repository acme");
      expect(message).toContain('replace = ["acme"]');
      expect(message).toContain(createHash("sha256").update(tiny).digest("hex"));
    });
  });

  it("bad tarballs: 422 with the field the client prints (name, version, checksum, metadata, tar)", async () => {
    await writesNothing(async () => {
      const cases: Array<[Uint8Array, string, string]> = [
        [simpleTarball("other_pkg", "0.2.0"), "name", "metadata does not match package name"],
        [rawTarball(metadataText("acme_tiny", "0.2.0"), { badChecksum: true }), "checksum", "does not match the contents"],
        [rawTarball(metadataText("acme_tiny", "1.2")), "version", 'version "1.2" is not a SemVer 2.0 version'],
        [rawTarball(metadataText("acme_tiny", "0.2.0").replace('{<<"requirements">>,[]}', '{<<"requirements">>,<<"oops">>}')), "metadata", "requirements must be a list"],
        [rawTarball(metadataText("acme_tiny", "0.2.0"), { extraEntry: true }), "tar", 'unexpected entry "README"'],
        [Buffer.from("just some bytes, not a tar"), "tar", "missing VERSION"],
      ];
      for (const [body, field, text] of cases) {
        const res = await publish(body);
        expect(res.status, field).toBe(422);
        expect((res.term as EtfMap).message).toBe("Validation error(s)");
        const errors = (res.term as EtfMap).errors as EtfMap;
        expect(Object.keys(errors), text).toEqual([field]);
        expect(String(errors[field]), field).toContain(text);
      }
    });
  });

  it("bad retire bodies and unknown releases: 400 / 422 / 404, nothing changed", async () => {
    await writesNothing(async () => {
      const path = `${api}/packages/acme_tiny/releases/0.1.0/retire`;
      const junk = await hexRequest(path, { method: "POST", body: Buffer.from([0x83, 0x74, 0xff]), contentType: "application/vnd.hex+erlang" });
      expect(junk.status).toBe(400);
      expect(String((junk.term as EtfMap).message)).toContain("not an Erlang term");
      const long = await hexRequest(path, { method: "POST", body: encodeEtf({ reason: "security", message: "m".repeat(141) }), contentType: "application/vnd.hex+erlang" });
      expect(long.status).toBe(422);
      expect(((long.term as EtfMap).errors as EtfMap).retirement).toHaveProperty("message");
      const unknown = await hexRequest(`${api}/packages/acme_tiny/releases/7.7.7/retire`, { method: "DELETE" });
      expect(unknown.status).toBe(404);
      expect(String((unknown.term as EtfMap).message)).toContain('has no release "7.7.7"');
      const noPkg = await hexRequest(`${api}/packages/nope/releases/1.0.0`, { method: "DELETE" });
      expect(noPkg.status).toBe(404);
      const badVersion = await hexRequest(`${api}/packages/acme_tiny/releases/1.x/retire`, { method: "DELETE" });
      expect(badVersion.status).toBe(400);
      expect((badVersion.term as EtfMap).message).toBe("invalid version: 1.x");
    });
  });
});
