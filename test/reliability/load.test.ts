import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/store/fs-store.js";
import { PKGPUB_BIN } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { FakeUpstream } from "../server/fake-upstream.js";
import { treeTarball } from "../server/tarballs.js";
import { FULL } from "./support/kill.js";
import { freePort } from "../support/net.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The 60 s under `npm run test:reliability`; 10 s in `npm test`. */
const SECONDS = Number(process.env.PKGPUB_LOAD_SECONDS ?? (FULL ? 60 : 10));
const WARMUP_SECONDS = 10;
const UUID = "7876af07-990d-54b4-ab0e-23690620f79a";
const OWN = "0a1b2c3d-0000-4000-8000-00000000000a";

interface LoadResult {
  requests: number;
  errors_connect: number;
  errors_read: number;
  errors_timeout: number;
  s2xx: number;
  s206: number;
  s3xx: number;
  s404: number;
  s4xx: number;
  s5xx: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  duration_us: number;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** wrk as a child process: asynchronously, since the fake upstream lives in this event loop. */
function wrk(url: string, seconds: number, pathsFile: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", ["-t2", "-c64", `-d${seconds}s`, "--timeout", "10s", "-s", path.join(here, "load/mix.lua"), url], {
      env: { ...process.env, LOAD_PATHS_FILE: pathsFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", () => {
      const m = /^LOAD (\{.*\})$/m.exec(out);
      if (m) resolve(JSON.parse(m[1]!) as LoadResult);
      else reject(new Error(`wrk printed no result: ${out}`));
    });
  });
}

/**
 * A real `pkgpub serve` process under wrk at 64 connections: store hits (whole objects and
 * Range requests), misses that the upstream serves (cached after the first), misses that the
 * upstream does not have (404 through the upstream), paths that are 404 outright and malformed
 * ones (400). No HEAD: wrk's parser does not know a HEAD response has no body and stalls.
 */
describe("the proxy under load (wrk, 64 connections)", () => {
  const t = tempDir("pkgpub-rel-load-");
  let upstream: FakeUpstream;
  let server: ChildProcess;
  let url: string;
  const pathsFile = path.join(t.dir, "paths.txt");
  let stderr = "";

  beforeAll(async () => {
    const store = new FsStore(path.join(t.dir, "store"));
    const pkg = treeTarball(path.join(t.dir, "pkg"), { "Project.toml": 'name = "P"\n', "src/P.jl": `module P\n${"f(x) = x\n".repeat(8000)}end\n` });
    const own = treeTarball(path.join(t.dir, "own"), { "Registry.toml": `name = "Own"\nuuid = "${OWN}"\n\n[packages]\n` });
    await store.put(`registry/${OWN}/${own.hash}`, own.gz);
    await store.put(`package/${UUID}/${pkg.hash}`, pkg.gz);
    await store.put("registries", `/registry/${OWN}/${own.hash}\n`);
    await store.put("repos/acme/names", Buffer.alloc(300, 1));
    await store.put("repos/acme/tarballs/foo-1.0.0.tar", Buffer.alloc(20_000, 2));
    upstream = await FakeUpstream.start();
    const lines = [
      "hit /registries",
      `hit /registry/${OWN}/${own.hash}`,
      `hit /package/${UUID}/${pkg.hash}`,
      "hit /repos/acme/names",
      "hit /repos/acme/tarballs/foo-1.0.0.tar",
      `range /package/${UUID}/${pkg.hash}`,
      "range /repos/acme/tarballs/foo-1.0.0.tar",
      `miss /package/${UUID}/`,
      "miss /artifact/",
      "malformed /package/not-a-uuid/x",
      "notfound /repos/acme/packages/nope",
      "notfound /no/such/route",
    ];
    for (let i = 0; i < 8; i++) {
      const up = treeTarball(path.join(t.dir, `up-${i}`), { "lib/data.bin": Buffer.alloc(10_000 + i, i) });
      upstream.bytes(`/artifact/${up.hash}`, up.gz);
      lines.push(`upstream /artifact/${up.hash}`);
    }
    writeFileSync(pathsFile, `${lines.join("\n")}\n`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [PKGPUB_BIN, "serve", "--store", path.join(t.dir, "store"), "--port", String(port), "--julia-upstream", upstream.url, "--cache-dir", path.join(t.dir, "cache")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    server.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/registries`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 200 || server.exitCode !== null) throw new Error(`pkgpub serve did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    await upstream?.close();
    t.cleanup();
  });

  it(`${SECONDS} s of mixed traffic: no 5xx, memory flat after warm-up, p99 reported`, async () => {
    const warm = await wrk(url, WARMUP_SECONDS, pathsFile);
    expect(warm.s5xx, JSON.stringify(warm)).toBe(0);
    const rssWarm = rssKb(server.pid!);
    const load = await wrk(url, SECONDS, pathsFile);
    const rssEnd = rssKb(server.pid!);
    const figures = `${load.requests} requests in ${(load.duration_us / 1e6).toFixed(1)} s (${Math.round(load.requests / (load.duration_us / 1e6))}/s), ` +
      `2xx ${load.s2xx}, 206 ${load.s206}, 404 ${load.s404}, other 4xx ${load.s4xx}, 5xx ${load.s5xx}; ` +
      `p50 ${(load.p50_us / 1000).toFixed(1)} ms, p99 ${(load.p99_us / 1000).toFixed(1)} ms, max ${(load.max_us / 1000).toFixed(1)} ms; ` +
      `RSS after warm-up ${(rssWarm / 1024).toFixed(0)} MB, at the end ${(rssEnd / 1024).toFixed(0)} MB (${((rssEnd / rssWarm - 1) * 100).toFixed(1)}%)`;
    console.log(`load: ${figures}`);
    expect(load.s5xx, figures).toBe(0);
    expect(load.errors_connect + load.errors_read + load.errors_timeout, figures).toBe(0);
    // The mix really ran: whole hits, ranges, 404s and 400s (malformed paths) all answered.
    expect(load.s4xx, figures).toBeGreaterThan(0);
    expect(load.s2xx, figures).toBeGreaterThan(0);
    expect(load.s206, figures).toBeGreaterThan(0);
    expect(load.s404, figures).toBeGreaterThan(0);
    expect(rssEnd, figures).toBeLessThanOrEqual(rssWarm * 1.2);
    expect(server.exitCode).toBeNull();
  }, (SECONDS + WARMUP_SECONDS + 60) * 1000);
});
