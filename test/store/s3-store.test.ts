import { createHash, randomBytes } from "node:crypto";
import { truncateSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { putOnce } from "../../src/store/put-once.js";
import { s3ClientConfig } from "../../src/store/s3-config.js";
import { S3Store } from "../../src/store/s3-store.js";
import { ConditionalWriteUnsupportedError } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";
import { freshS3Url } from "../support/s3.js";
import { generatedFile } from "../support/generated-file.js";

const MiB = 1024 * 1024;
const s3Env = inject("s3Env");
const scratch = tempDir("pkgpub-s3-store-");
let bucketUrl = "";
let bucket = "";
let n = 0;
let client: S3Client;

beforeAll(async () => {
  bucketUrl = await freshS3Url(s3Env, "s3-store");
  client = new S3Client(s3ClientConfig(s3Env));
  bucket = bucketUrl.slice("s3://".length);
});
afterAll(() => {
  client.destroy();
  scratch.cleanup();
});

function freshStore(tuning = {}): S3Store {
  return S3Store.fromUrl(`${bucketUrl}/t${++n}`, s3Env, { partSize: 5 * MiB, multipartThreshold: 8 * MiB, ...tuning });
}


async function sha256Of(store: S3Store, key: string): Promise<string | null> {
  const obj = await store.get(key);
  if (!obj) return null;
  const hash = createHash("sha256");
  for await (const chunk of obj.body) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function pendingUploads(prefix: string): Promise<string[]> {
  const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (r.Uploads ?? []).map((u) => u.Key ?? "");
}

describe("S3Store on the S3 test server", () => {
  it("uploads files above the threshold in parts that reassemble byte for byte", async () => {
    const store = freshStore();
    const f = generatedFile(scratch.dir, 23 * MiB + 7); // 5 parts, the last one short
    const put = await store.put("artifact/multi", { path: f.path });
    expect(put.etag).toMatch(/-5"$/); // S3's multipart ETag names the part count
    expect(await store.head("artifact/multi")).toMatchObject({ size: 23 * MiB + 7, etag: put.etag });
    expect(await sha256Of(store, "artifact/multi")).toBe(f.sha256);
  });

  it("a file that shrinks during a multipart upload fails it and leaves no object and no parts", async () => {
    const store = freshStore({ partConcurrency: 1 });
    const f = generatedFile(scratch.dir, 60 * MiB);
    const upload = store.put("artifact/shrinks", { path: f.path });
    const settled = upload.then(
      () => "resolved",
      () => "rejected",
    );
    // Truncate as soon as the upload exists: the remaining parts then cannot be read whole.
    while ((await pendingUploads(`${store.prefix}/artifact/`)).length === 0) {
      if ((await Promise.race([settled, sleep(5).then(() => "pending")])) !== "pending") break;
    }
    truncateSync(f.path, MiB);
    await expect(upload).rejects.toThrow(/changed during upload/);
    expect(await store.head("artifact/shrinks")).toBeNull();
    expect(await pendingUploads(`${store.prefix}/`)).toEqual([]);
  });

  it("learns that the server refuses conditional writes (501) and writes nothing for them", async () => {
    const store = freshStore();
    expect(store.conditionalWrites).toBe("unknown");
    await expect(store.put("repos/a/names", "x", { ifNoneMatch: "*" })).rejects.toBeInstanceOf(ConditionalWriteUnsupportedError);
    expect(store.conditionalWrites).toBe("unsupported");
    expect(await store.head("repos/a/names")).toBeNull();

    // The same answer to a streamed file body (sent with Expect: 100-continue).
    const streamed = freshStore();
    const small = generatedFile(scratch.dir, 3 * MiB);
    await expect(streamed.put("artifact/s", { path: small.path }, { ifNoneMatch: "*" })).rejects.toBeInstanceOf(ConditionalWriteUnsupportedError);
    expect(await streamed.head("artifact/s")).toBeNull();

    // A large conditional write must not go through multipart: Swift would ignore the condition there.
    const fresh = freshStore();
    const f = generatedFile(scratch.dir, 9 * MiB);
    const err = await fresh.put("artifact/cond", { path: f.path }, { ifNoneMatch: "*" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionalWriteUnsupportedError);
    expect(String(err)).toContain("artifact/cond");
    expect(await fresh.head("artifact/cond")).toBeNull();
    expect(await pendingUploads(`${fresh.prefix}/`)).toEqual([]);
    expect([...(await listAll(fresh))]).toEqual([]);

    // putOnce falls back to check-then-write and converges.
    expect(await putOnce(fresh, "artifact/cond", { path: f.path })).toBe("created");
    expect(await putOnce(fresh, "artifact/cond", { path: f.path })).toBe("exists");
    expect(await sha256Of(fresh, "artifact/cond")).toBe(f.sha256);
  });

  it("errors name the operation, bucket and key, and never the credentials", async () => {
    const secret = "wrong-secret-" + randomBytes(6).toString("hex");
    const badEnv = { ...s3Env, AWS_SECRET_ACCESS_KEY: secret };
    const bad = S3Store.fromUrl(`${bucketUrl}/creds`, badEnv);
    const errors = await Promise.all([
      bad.head("repos/a/names").catch((e: unknown) => e),
      bad.get("repos/a/names").catch((e: unknown) => e),
      bad.put("repos/a/names", "x").catch((e: unknown) => e),
      listAll(bad).catch((e: unknown) => e),
    ]);
    for (const err of errors) {
      expect(err).toBeInstanceOf(Error);
      const text = `${String(err)} ${JSON.stringify(err)} ${(err as Error).stack ?? ""}`;
      expect(text).toContain(`s3://${bucket}/creds/`);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(s3Env.AWS_ACCESS_KEY_ID!);
      expect(text).not.toMatch(/X-Amz-Signature=[0-9a-f]/);
    }
    expect(String(errors[0])).toMatch(/S3 HeadObject s3:\/\/\S+\/creds\/repos\/a\/names failed: HTTP 403 \(access denied or bad credentials\)/);
    expect(String(errors[1])).toMatch(/S3 GetObject s3:\/\/\S+\/creds\/repos\/a\/names failed: SignatureDoesNotMatch \(HTTP 403\)/);
    expect(String(errors[2])).toMatch(/S3 PutObject/);
    expect(String(errors[3])).toMatch(/S3 ListObjectsV2/);

    const missing = S3Store.fromUrl("s3://no-such-bucket-pkgpub", s3Env);
    await expect(missing.get("registries")).rejects.toThrow(/S3 GetObject s3:\/\/no-such-bucket-pkgpub\/registries failed: NoSuchBucket \(HTTP 404\)/);
    await expect(listAll(missing)).rejects.toThrow(/NoSuchBucket/);
  });

  it("describes itself by bucket, prefix and endpoint, without credentials", () => {
    const env = { ...s3Env, AWS_ENDPOINT_URL_S3: s3Env.AWS_ENDPOINT_URL_S3!.replace("://", "://user:hunter2@") };
    const store = S3Store.fromUrl("s3://bkt/some/prefix/", env);
    expect(store.description).toBe(`s3://bkt/some/prefix at ${new URL(s3Env.AWS_ENDPOINT_URL_S3!).origin}`);
    expect(store.prefix).toBe("some/prefix");
    expect(S3Store.fromUrl("s3://bkt", { AWS_REGION: "eu-west-1" }).description).toBe("s3://bkt");
  });
});

async function listAll(store: S3Store): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list("")) out.push(o.key);
  return out;
}
