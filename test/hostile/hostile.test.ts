import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetadata } from "../../src/hex/metadata.js";
import { parseProject } from "../../src/julia/registration/project.js";
import { readArtifactsToml, readPackageToml, readRegistryToml, readVersionsToml } from "../../src/julia/registry-toml.js";
import { DEFAULT_TAR_LIMITS } from "../../src/julia/tar-reader.js";
import { mirrorArtifact } from "../../src/publish/julia-artifact.js";
import { verifyJuliaStore } from "../../src/publish/julia-verify.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { FsStore } from "../../src/store/fs-store.js";
import type { Store } from "../../src/store/store.js";
import { deliver, pushPayload, sign } from "../github/support/deliver.js";
import { SECRET, startWorld, type World } from "../github/support/world.js";
import { newKeyPem } from "../hex/support/fixtures.js";
import { serveDir } from "../julia/fixtures.js";
import { registryFiles, treeTarball } from "../server/tarballs.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";

/**
 * The hostile corpus: test/hostile/cases.json names each input (a file under inputs/, or a
 * request or delivery described in the case) and what it must produce. One driver per entry
 * point: the registry and Project.toml readers, metadata.config, `pkgpub hex publish`, the
 * artifact mirror a Julia publish runs, `verify`, the proxy, the App's webhook endpoint.
 */
interface Case {
  id: string;
  driver: "julia-toml" | "hex-metadata" | "hex-publish" | "artifact" | "verify" | "proxy" | "webhook";
  input?: string;
  reader?: "registry" | "package" | "versions" | "artifacts" | "project";
  limits?: Record<string, number>;
  maxBytes?: number;
  url?: string;
  generate?: { bytes: number };
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  bodyBytes?: number;
  body?: string;
  signature?: string | null;
  payload?: unknown;
  ref?: string;
  repo?: string;
  expect: { error?: string; value?: unknown; exit?: number; stderr?: string; problem?: string; status?: number[] };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const cases = JSON.parse(readFileSync(path.join(here, "cases.json"), "utf8")) as Case[];
const input = (c: Case) => readFileSync(path.join(here, "inputs", c.input!));
const byDriver = (d: Case["driver"]) => cases.filter((c) => c.driver === d).map((c) => [c.id, c] as const);
const SENTINEL = "OUTSIDE-THE-STORE-7f3a9c";

async function keys(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list("")) out.push(o.key);
  return out;
}

it("the corpus has at least 40 cases, each input file exists and is used", () => {
  expect(cases.length).toBeGreaterThanOrEqual(40);
  expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  const used = new Set(cases.flatMap((c) => (c.input ? [c.input] : [])));
  for (const f of used) expect(existsSync(path.join(here, "inputs", f)), f).toBe(true);
  expect(readdirSync(path.join(here, "inputs")).filter((f) => !used.has(f))).toEqual([]);
});

describe("registry, package and project TOML", () => {
  const readers = {
    registry: (t: string, f: string) => readRegistryToml(t, f),
    package: (t: string, f: string) => readPackageToml(t, f),
    versions: (t: string, f: string) => readVersionsToml(t, f),
    artifacts: (t: string, f: string) => readArtifactsToml(t, f),
    project: (t: string, f: string) => parseProject(t, f),
  };
  it.each(byDriver("julia-toml"))("%s", (_id, c) => {
    const read = () => readers[c.reader!](input(c).toString("utf8"), c.input!);
    if (c.expect.value !== undefined) expect(read()).toEqual(c.expect.value);
    else expect(read).toThrow(new RegExp(c.expect.error!));
  });
});

describe("metadata.config (Erlang terms)", () => {
  it.each(byDriver("hex-metadata"))("%s", (_id, c) => {
    expect(() => parseMetadata(input(c).toString("utf8"))).toThrow(new RegExp(c.expect.error!));
  });
});

describe("pkgpub hex publish --tarball", () => {
  const t = tempDir("pkgpub-hostile-hex-");
  const keyFile = path.join(t.dir, "key.pem");
  beforeAll(() => writeFileSync(keyFile, newKeyPem().privatePem, { mode: 0o600 }));
  afterAll(() => t.cleanup());
  it.each(byDriver("hex-publish"))("%s", async (id, c) => {
    const file = c.input ? path.join(here, "inputs", c.input) : path.join(t.dir, `${id}.tar`);
    if (c.generate) writeFileSync(file, Buffer.alloc(c.generate.bytes, 7));
    const storeDir = path.join(t.dir, `store-${id}`);
    const r = await runCli(["hex", "publish", "--repo", "acme", "--store", storeDir, "--private-key", keyFile, "--tarball", file], { ...process.env });
    expect(r.code, r.stderr).toBe(c.expect.exit);
    expect(r.stderr).toMatch(new RegExp(c.expect.stderr!));
    expect(await keys(new FsStore(storeDir))).toEqual([]);
  });
});

describe("artifacts mirrored by a Julia publish", () => {
  const t = tempDir("pkgpub-hostile-art-");
  let server: { url: string; close: () => Promise<void> };
  beforeAll(async () => (server = await serveDir(path.join(here, "inputs"))));
  afterAll(async () => {
    await server.close();
    t.cleanup();
  });
  it.each(byDriver("artifact"))("%s", async (id, c) => {
    const bytes = input(c);
    const work = path.join(t.dir, id, "work");
    mkdirSync(work, { recursive: true });
    const store = new FsStore(path.join(t.dir, id, "store"));
    const artifact = {
      label: id,
      treeHash: "0123456789abcdef0123456789abcdef01234567",
      lazy: false,
      downloads: [{ url: c.url ?? `${server.url}/${c.input}`, sha256: createHash("sha256").update(bytes).digest("hex") }],
    };
    // The corpus is served from loopback: local addresses allowed here (test/julia/artifact-ssrf.test.ts covers the refusal).
    const limits = { maxBytes: c.maxBytes ?? 2 ** 30, timeoutMs: 30_000, tar: { ...DEFAULT_TAR_LIMITS, ...c.limits }, network: { publicOnly: false, allowHosts: [], redirectHosts: [] } };
    await expect(mirrorArtifact(artifact, store, work, limits)).rejects.toThrow(new RegExp(c.expect.error!));
    expect(await keys(store)).toEqual([]);
    // Nothing was written outside the work directory.
    expect(readdirSync(path.join(t.dir, id)).sort()).toEqual(["work"]);
    expect(existsSync("/etc/pkgpub-hostile.txt")).toBe(false);
  });
});

describe("pkgpub verify", () => {
  const t = tempDir("pkgpub-hostile-verify-");
  afterAll(() => t.cleanup());
  it.each(byDriver("verify"))("%s", async (_id, c) => {
    const uuid = "a1b2c3d4-0000-4000-8000-00000000000a";
    const reg = treeTarball(path.join(t.dir, "reg"), registryFiles("R", uuid, []));
    const store = new FsStore(path.join(t.dir, "store"));
    // The deflate data is whole; the gzip trailer (CRC and length) is cut.
    await store.put(`registry/${uuid}/${reg.hash}`, reg.gz.subarray(0, reg.gz.length - 4));
    await store.put("registries", `/registry/${uuid}/${reg.hash}\n`);
    const report = await verifyJuliaStore(store);
    expect(report.problems.join("\n")).toMatch(new RegExp(c.expect.problem!));
  });
});

interface Answer {
  status: number;
  body: string;
}

/** A request with the path exactly as given and an optional body of n bytes; never throws. */
function send(base: string, c: Case): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method: c.method ?? "GET", path: c.path, headers: c.headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString("latin1")));
      res.on("close", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => undefined);
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    if (c.bodyBytes) {
      const chunk = Buffer.alloc(1 << 20, 97);
      let left = c.bodyBytes;
      const pump = () => {
        while (left > 0) {
          left -= chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      req.on("response", () => (left = 0));
      pump();
    } else req.end();
  });
}

describe("the proxy", () => {
  const t = tempDir("pkgpub-hostile-proxy-");
  let server: TestServer;
  let store: FsStore;
  beforeAll(async () => {
    writeFileSync(path.join(t.dir, "outside-secret"), SENTINEL);
    store = new FsStore(path.join(t.dir, "store"));
    await store.put("registries", "/registry/a1b2c3d4-0000-4000-8000-00000000000a/0123456789abcdef0123456789abcdef01234567\n");
    server = await startTestServer({ store, port: 0, log: new PassThrough() });
  });
  afterAll(async () => {
    await server.close();
    t.cleanup();
  });
  it.each(byDriver("proxy"))("%s", async (_id, c) => {
    const before = await keys(store);
    const answer = await send(server.url, c);
    expect(c.expect.status, `${answer.status} ${answer.body.slice(0, 200)}`).toContain(answer.status);
    expect(answer.body).not.toContain(SENTINEL);
    expect(await keys(store)).toEqual(before);
    const ok = await send(server.url, { id: "ok", driver: "proxy", path: "/registries", expect: {} });
    expect(ok.status).toBe(200);
  });
});

describe("the App's webhook endpoint", () => {
  let w: World;
  beforeAll(async () => (w = await startWorld()));
  afterAll(async () => w?.close());
  const payload = (c: Case) =>
    c.payload === "push" || c.payload === undefined
      ? pushPayload({ owner: "acme", repo: c.repo ?? "Registry", ref: c.ref ?? "refs/heads/main", after: "1".repeat(40), cloneUrl: "http://127.0.0.1:9/acme/x.git" })
      : c.payload;
  it.each(byDriver("webhook"))("%s", async (id, c) => {
    let res: { status: number; body: string };
    if (c.body !== undefined || c.bodyBytes !== undefined) {
      const body = c.body ?? JSON.stringify({ ...(payload(c) as object), padding: "p".repeat(c.bodyBytes!) });
      const r = await fetch(w.app.webhookUrl, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": sign(c.signature ?? SECRET, body) },
      }).catch(() => null);
      res = r ? { status: r.status, body: await r.text() } : { status: 0, body: "" };
    } else if (c.signature === "other-body") {
      const r = await fetch(w.app.webhookUrl, {
        method: "POST",
        body: JSON.stringify(payload(c)),
        headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": sign(SECRET, "{}") },
      });
      res = { status: r.status, body: await r.text() };
    } else if (c.signature !== undefined) {
      res = await deliver(w.app.webhookUrl, "push", payload(c), c.signature === null ? { signature: null } : { secret: c.signature });
    } else {
      res = await deliver(w.app.webhookUrl, "push", payload(c), { secret: SECRET, id });
    }
    expect(c.expect.status, `${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
    await w.app.app.queue.idle();
    expect(readdirSync(w.storeDir)).toEqual([]);
    // Still up and accepting real deliveries.
    expect((await deliver(w.app.webhookUrl, "ping", { zen: "ok", hook_id: 1 }, { secret: SECRET })).status).toBe(200);
  });
});
