// Store figures: moving a 200 MB file into and out of each store, as ratios against a baseline
// in the same run (directory: copyFile / a plain read; S3: one plain SDK PutObject / GetObject
// on the same server), and the peak RSS of a process doing only that transfer.
// S3 runs on the Swift test server (started here) unless AWS_ENDPOINT_URL_S3 names another.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { FsStore } from "../src/store/fs-store.js";
import { s3ClientConfig } from "../src/store/s3-config.js";
import { ensureBucket, S3Store } from "../src/store/s3-store.js";
import { startBenchS3 } from "./s3-server.js";
import type { Store } from "../src/store/store.js";

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
const RUNS = 3;
const self = fileURLToPath(import.meta.url);

// Kept local (not bench/util.ts) so this bench stands alone.
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const report = (label: string, value: string): void => console.log(`  ${label.padEnd(58)} ${value}`);
async function timed(fn: () => Promise<unknown>): Promise<{ ms: number }> {
  const t0 = performance.now();
  await fn();
  return { ms: performance.now() - t0 };
}

async function sha256(body: Readable): Promise<string> {
  const h = createHash("sha256");
  for await (const c of body) h.update(c as Buffer);
  return h.digest("hex");
}

function openStoreFor(spec: string, env: NodeJS.ProcessEnv): Store {
  return spec.startsWith("s3://") ? S3Store.fromUrl(spec, env) : new FsStore(spec);
}

/** Child mode: one transfer, then its peak RSS in MB. */
async function child(op: string, spec: string, file: string): Promise<void> {
  const store = openStoreFor(spec, process.env);
  if (op === "put") await store.put("artifact/bench", { path: file });
  else if (op === "get") await sha256((await store.get("artifact/bench"))!.body);
  else await store.head("artifact/bench"); // the baseline: same modules and client, no body
  console.log((process.resourceUsage().maxRSS / 1024).toFixed(0));
}

function peakRss(op: string, spec: string, file: string, env: NodeJS.ProcessEnv): number {
  const r = spawnSync(process.execPath, [self, "child", op, spec, file], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`child ${op} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pkgpub-bench-store-"));
  const tmp = { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  let stopServer = (): void => undefined;
  try {
    const file = path.join(tmp.dir, "big.bin");
    const block = randomBytes(MiB);
    const fd = openSync(file, "w");
    for (let i = 0; i < SIZE / MiB; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
    closeSync(fd);
    const want = await sha256(createReadStream(file));

    const s3 = startBenchS3(tmp.dir);
    stopServer = s3.stop;
    const env = s3.env;
    const bucket = `pkgpub-bench-${randomBytes(3).toString("hex")}`;
    await ensureBucket(`s3://${bucket}`, env);
    const client = new S3Client(s3ClientConfig(env));

    const fsRoot = path.join(tmp.dir, "fs");
    const fsStore = new FsStore(fsRoot);
    const s3Store = S3Store.fromUrl(`s3://${bucket}/store`, env);

    const rows: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      // put also fsyncs the file before renaming it into place; copyFile does not.
      ["directory put 200 MB file vs copyFile", () => fsStore.put("artifact/bench", { path: file }), () => copyFile(file, path.join(tmp.dir, "copy.bin"))],
      ["directory get 200 MB (hashed) vs reading the file", async () => sha256((await fsStore.get("artifact/bench"))!.body), () => sha256(createReadStream(file))],
      // On loopback Swift parallel parts buy nothing and the multipart manifest costs a little;
      // against a remote service the parts run in parallel.
      [
        "S3 put 200 MB (multipart, 4 parts at once) vs one plain PutObject",
        () => s3Store.put("artifact/bench", { path: file }),
        () => client.send(new PutObjectCommand({ Bucket: bucket, Key: "plain/bench", Body: createReadStream(file), ContentLength: SIZE })),
      ],
      [
        "S3 get 200 MB (hashed) vs a plain GetObject of the same object",
        async () => sha256((await s3Store.get("artifact/bench"))!.body),
        async () => sha256((await client.send(new GetObjectCommand({ Bucket: bucket, Key: "store/artifact/bench" }))).Body as Readable),
      ],
    ];
    for (const [label, ours, baseline] of rows) {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        b.push((await timed(baseline)).ms);
        a.push((await timed(ours)).ms);
      }
      const mbps = (SIZE / MiB / (median(a) / 1000)).toFixed(0);
      report(label, `${(median(b) / median(a)).toFixed(2)}x baseline speed (${mbps} MB/s, median of ${RUNS})`);
    }
    for (const store of [fsStore, s3Store]) {
      if ((await sha256((await store.get("artifact/bench"))!.body)) !== want) throw new Error(`${store.description}: content differs`);
    }
    client.destroy();

    for (const [label, spec] of [["directory", fsRoot], ["S3", `s3://${bucket}/store`]] as const) {
      const idle = peakRss("head", spec, file, env);
      for (const op of ["put", "get"]) {
        const peak = peakRss(op, spec, file, env);
        report(`${label} ${op} 200 MB: peak RSS (a HEAD alone: ${idle} MB)`, `${peak} MB, +${peak - idle} MB`);
      }
    }
  } finally {
    stopServer();
    tmp.cleanup();
  }
}

if (process.argv[2] === "child") await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
