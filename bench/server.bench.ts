// Server figures, each against a baseline measured in the same run:
//  - requests/s for a 100 KB and a 5 MB stored tarball (and a 100 KB Hex tarball, replaceable): pkgpub serve --workers auto vs nginx
//    (Debian nginx-light, sendfile) with worker_processes auto as deployed, the one-worker
//    figures of both beside them, on the same directory, wrk with 32 connections, runs
//    interleaved so that drift on a shared machine hits every server alike; and pkgpub with
//    --memory-cache 0, the path every object larger than 16 MiB takes (file reads, no sendfile);
//    and the floor Node itself sets: a bare node:http server (node:cluster for auto) answering
//    every request with the file's bytes from memory, no routing, checks or logging;
//  - peak RSS of all pkgpub serve processes together (primary and workers, sampled) while 32
//    clients download a 200 MB artifact at once;
//  - latency of a cache hit (upstream content in the local cache) vs a direct store read of an
//    object of the same size.
// pkgpub runs as its own process (bin/pkgpub.mjs, built by `npm run bench`).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { Agent, get } from "node:http";
import { createServer } from "node:net";
import os, { availableParallelism } from "node:os";
import path from "node:path";

// Run from the repository root (bench/run.mjs does); the bundle itself lives in build/bench/.
const root = process.cwd();
const BIN = path.join(root, "bin/pkgpub.mjs");
const UUID = "7876af07-990d-54b4-ab0e-23690620f79a";
const H_STORE = "1".repeat(40);
const H_CACHE = "2".repeat(40);
const H_ART = "3".repeat(40);
const H_STORE_BIG = "4".repeat(40);
const H_STORE_5M = "6".repeat(40);
const H_CACHE_BIG = "5".repeat(40);
const MiB = 1024 * 1024;
const report = (label: string, value: string): void => console.log(`  ${label.padEnd(58)} ${value}`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const dir = mkdtempSync(path.join(os.tmpdir(), "pkgpub-bench-server-"));
const store = path.join(dir, "store");
const cache = path.join(dir, "cache");

function put(base: string, key: string, bytes: Buffer): void {
  const file = path.join(base, key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = get(url, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} never answered`);
}

async function startPkgpub(workers = "1", extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const log = openSync(path.join(dir, `pkgpub-${port}.log`), "w");
  const child = spawn(
    process.execPath,
    [BIN, "serve", "--store", store, "--port", String(port), "--workers", workers, "--julia-upstream", "http://127.0.0.1:9", "--cache-dir", cache, ...extra],
    { stdio: ["ignore", log, log] },
  );
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_r, reject) =>
    child.once("exit", (code) => reject(new Error(`pkgpub serve exited ${code}: ${readFileSync(path.join(dir, `pkgpub-${port}.log`), "utf8")}`))),
  );
  await Promise.race([waitHttp(`${url}/health`), exited]);
  exited.catch(() => undefined);
  return { url, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Resident memory of a process and all its children now, MiB. */
function treeRssMiB(pid: number): number {
  let kb = 0;
  const visit = (p: number) => {
    try {
      kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"))![1]);
      for (const c of readFileSync(`/proc/${p}/task/${p}/children`, "utf8").split(" ").filter(Boolean)) visit(Number(c));
    } catch {
      // gone meanwhile
    }
  };
  visit(pid);
  return kb / 1024;
}

function wrk(url: string, seconds = 5): number {
  const r = spawnSync("wrk", ["-t2", "-c32", `-d${seconds}s`, url], { encoding: "utf8" });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`wrk failed: ${r.stdout}${r.stderr}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return Number(m[1]);
}

/** The bare Node server: what any Node server on this machine can do at best. */
async function startNodeFloor(workers: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const script = path.join(dir, "node-floor.mjs");
  writeFileSync(
    script,
    `import cluster from "node:cluster";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
const [port, workers, root] = process.argv.slice(2);
const n = workers === "auto" ? availableParallelism() : Number(workers);
if (cluster.isPrimary && n > 1) {
  for (let i = 0; i < n; i++) cluster.fork();
  process.on("SIGTERM", () => { for (const w of Object.values(cluster.workers)) w.kill(); process.exit(0); });
} else {
  const files = new Map();
  createServer((req, res) => {
    let bytes = files.get(req.url);
    if (!bytes) files.set(req.url, (bytes = readFileSync(root + req.url)));
    res.writeHead(200, { "Content-Type": "application/x-gzip", "Content-Length": String(bytes.length) });
    res.end(bytes);
  }).listen(Number(port), "127.0.0.1");
  process.on("SIGTERM", () => process.exit(0));
}
`,
  );
  const child = spawn(process.execPath, [script, String(port), workers, store], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/package/${UUID}/${H_STORE}`);
  return { url, child };
}

async function startNginx(workers: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const conf = path.join(dir, `nginx-${workers}.conf`);
  writeFileSync(
    conf,
    `user root;
worker_processes ${workers};
daemon off;
pid ${dir}/nginx-${workers}.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log ${dir}/nginx-access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/x-gzip;
  client_body_temp_path ${dir}/nginx-tmp;
  proxy_temp_path ${dir}/nginx-tmp;
  fastcgi_temp_path ${dir}/nginx-tmp;
  uwsgi_temp_path ${dir}/nginx-tmp;
  scgi_temp_path ${dir}/nginx-tmp;
  server { listen 127.0.0.1:${port}; root ${store}; etag on; }
}
`,
  );
  const child = spawn("nginx", ["-c", conf, "-p", dir], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/package/${UUID}/${H_STORE}`);
  return { url, child };
}

/** Sequential keep-alive GETs, alternating the two paths so drift hits both alike; µs each. */
async function latencies(url: string, paths: string[], rounds: number): Promise<number[][]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const out = paths.map(() => [] as number[]);
  const one = (p: string) =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      get(`${url}${p}`, { agent }, (res) => {
        res.on("data", () => undefined);
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`${p}: ${res.statusCode}`));
          resolve(Number(process.hrtime.bigint() - t0) / 1000);
        });
      }).on("error", reject);
    });
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < paths.length; j++) out[j]!.push(await one(paths[j]!));
  }
  agent.destroy();
  return out;
}

async function downloadAll(url: string, clients: number): Promise<number> {
  let bytes = 0;
  await Promise.all(
    Array.from({ length: clients }, () =>
      new Promise<void>((resolve, reject) => {
        get(url, { agent: false }, (res) => {
          res.on("data", (c: Buffer) => (bytes += c.length));
          res.on("end", resolve);
          res.on("error", reject);
        }).on("error", reject);
      }),
    ),
  );
  return bytes;
}

try {
  put(store, `package/${UUID}/${H_STORE}`, randomBytes(100 * 1024));
  put(cache, `package/${UUID}/${H_CACHE}`, randomBytes(100 * 1024));
  put(store, "repos/acme/tarballs/foo-1.0.0.tar", randomBytes(100 * 1024));
  // Above the in-memory limit (16 MiB): these stream from their files every time.
  put(store, `package/${UUID}/${H_STORE_BIG}`, randomBytes(20 * MiB));
  put(store, `package/${UUID}/${H_STORE_5M}`, randomBytes(5 * 1000 * 1000));
  put(cache, `package/${UUID}/${H_CACHE_BIG}`, randomBytes(20 * MiB));
  // 200 MB artifact, written in pieces.
  mkdirSync(path.join(store, "artifact"), { recursive: true });
  const fd = openSync(path.join(store, "artifact", H_ART), "w");
  const piece = randomBytes(4 * MiB);
  for (let i = 0; i < 50; i++) writeSync(fd, piece);
  closeSync(fd);
  mkdirSync(path.join(dir, "nginx-tmp"), { recursive: true });

  const cores = availableParallelism();
  console.log(`requests/s, wrk -t2 -c32 -d5s, 3 interleaved rounds after a 2 s warm-up of each; "auto" is ${cores} processes on this machine`);
  const servers = {
    "nginx auto": await startNginx("auto"),
    "pkgpub --workers auto": await startPkgpub("auto"),
    "nginx 1 worker": await startNginx("1"),
    "pkgpub 1 worker": await startPkgpub("1"),
    "pkgpub 1 worker, memory cache off": await startPkgpub("1", ["--memory-cache", "0"]),
    "bare node:http auto": await startNodeFloor("auto"),
    "bare node:http 1 process": await startNodeFloor("1"),
  };
  const sizes: Array<[string, string]> = [
    ["100 KB", `/package/${UUID}/${H_STORE}`],
    // Replaceable (publish --replace): the store is asked for its version on every request.
    ["100 KB Hex tarball", "/repos/acme/tarballs/foo-1.0.0.tar"],
    ["5 MB", `/package/${UUID}/${H_STORE_5M}`],
  ];
  for (const [size, p] of sizes) {
    const runs = new Map<string, number[]>(Object.keys(servers).map((k) => [k, []]));
    // Unmeasured first: a cold V8 (or a cold page cache) would weigh on whichever ran first.
    for (const srv of Object.values(servers)) wrk(`${srv.url}${p}`, 2);
    for (let round = 1; round <= 3; round++) {
      for (const [name, srv] of Object.entries(servers)) runs.get(name)!.push(wrk(`${srv.url}${p}`));
    }
    for (const [name, xs] of runs) report(`${size}: ${name} (median of 3)`, `${median(xs).toFixed(0)} req/s  [${xs.map((x) => x.toFixed(0)).join(", ")}]`);
    const target = size === "5 MB" ? 0.9 : 0.8;
    report(`${size}: pkgpub auto / nginx auto (target >= ${target})`, (median(runs.get("pkgpub --workers auto")!) / median(runs.get("nginx auto")!)).toFixed(2));
    report(`${size}: pkgpub 1 / nginx 1 worker`, (median(runs.get("pkgpub 1 worker")!) / median(runs.get("nginx 1 worker")!)).toFixed(2));
    report(`${size}: bare node:http auto / nginx auto (Node's ceiling)`, (median(runs.get("bare node:http auto")!) / median(runs.get("nginx auto")!)).toFixed(2));
    report(`${size}: pkgpub auto / bare node:http auto`, (median(runs.get("pkgpub --workers auto")!) / median(runs.get("bare node:http auto")!)).toFixed(2));
    report(`${size}: pkgpub 1, memory cache off / nginx 1 worker`, (median(runs.get("pkgpub 1 worker, memory cache off")!) / median(runs.get("nginx 1 worker")!)).toFixed(2));
  }
  for (const name of ["nginx auto", "nginx 1 worker"] as const) {
    servers[name].child.kill("SIGQUIT");
    await new Promise((r) => servers[name].child.once("exit", r));
  }
  await stop(servers["pkgpub --workers auto"].child);
  await stop(servers["pkgpub 1 worker, memory cache off"].child);
  await stop(servers["bare node:http auto"].child);
  await stop(servers["bare node:http 1 process"].child);
  const pk = servers["pkgpub 1 worker"];

  console.log("latency, 100 KB (held in memory after the first read), sequential keep-alive GETs (2000 each, interleaved)");
  await latencies(pk.url, [`/package/${UUID}/${H_STORE}`, `/package/${UUID}/${H_CACHE}`], 200);
  const [direct, hit] = await latencies(pk.url, [`/package/${UUID}/${H_STORE}`, `/package/${UUID}/${H_CACHE}`], 2000);
  report("direct store read: median / p99", `${median(direct!).toFixed(0)} µs / ${pct(direct!, 0.99).toFixed(0)} µs`);
  report("cache hit (store miss, then cache): median / p99", `${median(hit!).toFixed(0)} µs / ${pct(hit!, 0.99).toFixed(0)} µs`);
  report("added by a cache hit (median)", `${(median(hit!) - median(direct!)).toFixed(0)} µs (x${(median(hit!) / median(direct!)).toFixed(2)})`);
  console.log("latency, 20 MB (streamed from files, too large to hold in memory), 100 each, interleaved");
  const [directBig, hitBig] = await latencies(pk.url, [`/package/${UUID}/${H_STORE_BIG}`, `/package/${UUID}/${H_CACHE_BIG}`], 100);
  report("direct store read: median / p99", `${median(directBig!).toFixed(0)} µs / ${pct(directBig!, 0.99).toFixed(0)} µs`);
  report("cache hit: median / p99", `${median(hitBig!).toFixed(0)} µs / ${pct(hitBig!, 0.99).toFixed(0)} µs`);
  report("added by a cache hit (median)", `${(median(hitBig!) - median(directBig!)).toFixed(0)} µs (x${(median(hitBig!) / median(directBig!)).toFixed(2)})`);
  await stop(pk.child);

  console.log("peak RSS, 32 clients downloading a 200 MB artifact at once");
  for (const workers of ["1", "auto"]) {
    const fresh = await startPkgpub(workers);
    const idle = treeRssMiB(fresh.child.pid!);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRssMiB(fresh.child.pid!))), 50);
    const t0 = performance.now();
    const bytes = await downloadAll(`${fresh.url}/artifact/${H_ART}`, 32);
    const secs = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const onePeak = peakRssMiB(fresh.child.pid!);
    await stop(fresh.child);
    if (bytes !== 32 * 200 * MiB) throw new Error(`downloaded ${bytes} bytes, expected ${32 * 200 * MiB}`);
    report(`--workers ${workers}: all processes' RSS idle / peak (target < 400 MB)`, `${idle.toFixed(0)} MiB / ${peak.toFixed(0)} MiB (primary's own peak ${onePeak.toFixed(0)} MiB)`);
    report(`--workers ${workers}: aggregate throughput`, `${(bytes / MiB / secs).toFixed(0)} MiB/s (${secs.toFixed(1)} s)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
