import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { fileSlice, regularFileSize } from "./file-body.js";
import { describeS3, parseS3Url, s3ClientConfig, secretsOf, type S3Location } from "./s3-config.js";
import { codeOf, isNotFound, isTransient, S3StoreError, scrubbedMessage, statusOf } from "./s3-errors.js";
import {
  assertValidKey,
  assertValidRange,
  ConditionalWriteUnsupportedError,
  PreconditionFailedError,
  type GetOptions,
  type ObjectInfo,
  type ObjectListing,
  type PutOptions,
  type PutResult,
  type PutSource,
  type Store,
  type StoredObject,
} from "./store.js";

const MiB = 1024 * 1024;
/** S3 allows at most this many parts in one multipart upload. */
const MAX_PARTS = 10_000;
const UPLOAD_ATTEMPTS = 3;
/** Keys the adapter itself writes briefly (the conditional-write probe); never listed. */
const INTERNAL_PREFIX = ".pkgpub-";

export interface S3StoreTuning {
  /** ListObjectsV2 MaxKeys (S3 caps it at 1000). */
  pageSize?: number;
  /** Files larger than this are uploaded in parts. */
  multipartThreshold?: number;
  /** Part size of multipart uploads (S3's minimum is 5 MiB for all but the last part). */
  partSize?: number;
  /** Parts uploaded at once. */
  partConcurrency?: number;
}

export interface S3StoreOptions extends S3StoreTuning, S3Location {
  client: S3Client;
  description: string;
  /** Values to blank out of error messages (the credentials the client was given). */
  secrets?: readonly string[];
}

type ConditionalSupport = "unknown" | "supported" | "unsupported";

/**
 * A bucket (optionally a prefix in it) as the store. Writes are single PutObject requests, or
 * multipart uploads for large files, so readers see whole objects only. Conditional writes use
 * If-None-Match / If-Match; a service that answers them with 501 (Swift's s3api, older
 * S3-compatibles) is remembered as unable, and later conditional writes fail fast with
 * ConditionalWriteUnsupportedError without sending anything.
 */
export class S3Store implements Store {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly secrets: readonly string[];
  private readonly pageSize: number;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private conditional: ConditionalSupport = "unknown";

  /** "s3://bucket[/prefix]", configured by the standard AWS environment in `env`. */
  static fromUrl(url: string, env: NodeJS.ProcessEnv = process.env, tuning: S3StoreTuning = {}): S3Store {
    const location = parseS3Url(url);
    const config = s3ClientConfig(env);
    silenceNodeVersionNotice();
    return new S3Store({
      ...tuning,
      ...location,
      client: new S3Client(config),
      description: describeS3(location, typeof config.endpoint === "string" ? config.endpoint : undefined),
      secrets: secretsOf(env),
    });
  }

  constructor(options: S3StoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.description = options.description;
    this.secrets = options.secrets ?? [];
    this.pageSize = Math.min(Math.max(options.pageSize ?? 1000, 1), 1000);
    this.multipartThreshold = options.multipartThreshold ?? 64 * MiB;
    this.partSize = Math.max(options.partSize ?? 16 * MiB, 5 * MiB);
    this.partConcurrency = Math.max(options.partConcurrency ?? 4, 1);
  }

  /** Whether conditional writes have been seen to work, to fail, or not tried yet. */
  get conditionalWrites(): ConditionalSupport {
    return this.conditional;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const Key = this.objectKey(key);
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: r.ContentLength ?? 0, etag: r.ETag ?? "", contentType: r.ContentType };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw this.failure("HeadObject", Key, err);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<StoredObject | null> {
    const Key = this.objectKey(key);
    const range = options.range;
    if (range) assertValidRange(key, range);
    let r;
    try {
      r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
    } catch (err) {
      if (isNotFound(err) && codeOf(err) !== "NoSuchBucket") return null;
      if (range && (statusOf(err) === 416 || codeOf(err) === "InvalidRange")) {
        // A range past the end reads as no bytes, as it does from a file.
        const info = await this.head(key);
        return info && { ...info, body: Readable.from([]) };
      }
      throw this.failure("GetObject", Key, err);
    }
    const body = r.Body;
    if (!(body instanceof Readable)) throw new S3StoreError("GetObject", this.bucket, Key, "NoBody", undefined, "no stream in the response");
    const total = /\/(\d+)$/.exec(r.ContentRange ?? "")?.[1];
    const size = total !== undefined ? Number(total) : (r.ContentLength ?? 0);
    if (range && total === undefined && (range.start > 0 || range.end < size - 1)) {
      body.destroy();
      throw new S3StoreError("GetObject", this.bucket, Key, "RangeIgnored", r.$metadata.httpStatusCode, "the service ignored the Range header");
    }
    return { size, etag: r.ETag ?? "", contentType: r.ContentType, body };
  }

  async put(key: string, source: PutSource, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.objectKey(key);
    const conditional = options.ifNoneMatch !== undefined || options.ifMatch !== undefined;
    if (conditional && this.conditional === "unsupported") throw new ConditionalWriteUnsupportedError(key, this.description);

    if (typeof source === "string" || source instanceof Uint8Array) {
      const bytes = typeof source === "string" ? Buffer.from(source) : source;
      try {
        const r = await this.client.send(
          new PutObjectCommand({ ...this.putFields(Key, options), Body: bytes, ContentLength: bytes.byteLength }),
        );
        this.sawConditionalWork(conditional);
        return { etag: r.ETag ?? "" };
      } catch (err) {
        throw this.putFailure("PutObject", key, Key, err, options);
      }
    }

    const size = await regularFileSize(source.path);
    if (size > this.multipartThreshold) {
      // Swift ignores conditions on CompleteMultipartUpload instead of refusing them, so a
      // conditional multipart upload needs to know first that conditions are honoured.
      if (conditional && this.conditional === "unknown" && !(await this.probeConditionalWrites())) {
        throw new ConditionalWriteUnsupportedError(key, this.description);
      }
      return this.putInParts(key, Key, source.path, size, options);
    }
    const r = await this.sendWithFileBody(
      "PutObject", key, Key, options,
      () => fileSlice(source.path, 0, size),
      (body, abortSignal) =>
        this.client.send(new PutObjectCommand({ ...this.putFields(Key, options), Body: body, ContentLength: size }), { abortSignal }),
    );
    this.sawConditionalWork(conditional);
    return { etag: r.ETag ?? "" };
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (isNotFound(err) && codeOf(err) !== "NoSuchBucket") return;
      throw this.failure("DeleteObject", Key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectListing> {
    const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (dir !== "") assertValidKey(dir);
    const base = this.prefix ? `${this.prefix}/` : "";
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, MaxKeys: this.pageSize, ContinuationToken }),
        );
      } catch (err) {
        throw this.failure("ListObjectsV2", base + prefix, err);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || !o.Key.startsWith(base)) continue;
        const key = o.Key.slice(base.length);
        if (key.startsWith(INTERNAL_PREFIX)) continue;
        yield { key, size: o.Size ?? 0, etag: o.ETag ?? "", ...(o.LastModified ? { modified: o.LastModified } : {}) };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private putFields(Key: string, options: PutOptions) {
    return {
      Bucket: this.bucket,
      Key,
      ContentType: options.contentType,
      IfNoneMatch: options.ifNoneMatch,
      IfMatch: options.ifMatch,
    };
  }

  private sawConditionalWork(conditional: boolean): void {
    if (conditional) this.conditional = "supported";
  }

  /**
   * Streams part after part of the file (a few at once), each read from the file as it is
   * sent. On any failure the upload is aborted once every part in flight has settled, so no
   * object appears and no parts are left behind.
   */
  private async putInParts(key: string, Key: string, file: string, size: number, options: PutOptions): Promise<PutResult> {
    const partSize = Math.max(this.partSize, Math.ceil(size / MAX_PARTS));
    const count = Math.ceil(size / partSize);
    let UploadId: string | undefined;
    try {
      UploadId = (
        await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: options.contentType }))
      ).UploadId;
    } catch (err) {
      throw this.failure("CreateMultipartUpload", Key, err);
    }
    if (!UploadId) throw new S3StoreError("CreateMultipartUpload", this.bucket, Key, "NoUploadId", undefined, "no upload id in the response");

    const parts: { PartNumber: number; ETag: string }[] = [];
    const stop = new AbortController();
    // The first failure is the cause; the parts it cancels fail after it.
    let firstError: unknown;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count && !stop.signal.aborted) {
        const index = next++;
        const start = index * partSize;
        const length = Math.min(partSize, size - start);
        const PartNumber = index + 1;
        const r = await this.sendWithFileBody(
          `UploadPart ${PartNumber}/${count}`, key, Key, {},
          () => fileSlice(file, start, length),
          (body, abortSignal) =>
            this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body: body, ContentLength: length }), { abortSignal }),
          stop.signal,
        );
        parts[index] = { PartNumber, ETag: r.ETag ?? "" };
      }
    };
    try {
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(this.partConcurrency, count) }, () =>
          worker().catch((err: unknown) => {
            if (!stop.signal.aborted) firstError = err;
            stop.abort();
            throw err;
          }),
        ),
      );
      if (results.some((r) => r.status === "rejected")) throw firstError;
      let done;
      try {
        done = await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: options.ifNoneMatch,
            IfMatch: options.ifMatch,
          }),
        );
      } catch (err) {
        throw this.putFailure("CompleteMultipartUpload", key, Key, err, options);
      }
      return { etag: done.ETag ?? "" };
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Sends a request whose body is read from a file, with a fresh stream for each attempt: the
   * SDK cannot retry a stream it has consumed. A body that fails (the file shrank) aborts the
   * request at once, and the file's error is what the caller sees.
   */
  private async sendWithFileBody<T>(
    operation: string,
    key: string,
    Key: string,
    options: PutOptions,
    makeBody: () => Readable,
    send: (body: Readable, abortSignal: AbortSignal) => Promise<T>,
    outer?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const body = makeBody();
      const abort = new AbortController();
      const onOuterAbort = (): void => abort.abort();
      outer?.addEventListener("abort", onOuterAbort, { once: true });
      let bodyError: unknown;
      body.once("error", (err) => {
        bodyError = err;
        abort.abort();
      });
      try {
        return await send(body, abort.signal);
      } catch (err) {
        if (bodyError) throw bodyError;
        if (outer?.aborted) throw new Error(`${operation} of ${key} cancelled: another part failed`);
        if (attempt < UPLOAD_ATTEMPTS && isTransient(err)) {
          await sleep(250 * 2 ** attempt);
          continue;
        }
        throw this.putFailure(operation, key, Key, err, options);
      } finally {
        outer?.removeEventListener("abort", onOuterAbort);
        // A server that answers before reading the body (412, 501) leaves the file open.
        body.destroy();
      }
    }
  }

  /**
   * Writes and deletes an internal object with If-None-Match to learn whether the service
   * honours conditions (it answers 501 if it does not).
   */
  private async probeConditionalWrites(): Promise<boolean> {
    const key = `${INTERNAL_PREFIX}probe-${randomBytes(8).toString("hex")}`;
    const Key = this.prefix ? `${this.prefix}/${key}` : key;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: new Uint8Array(0), IfNoneMatch: "*" }));
    } catch (err) {
      if (statusOf(err) === 501 || codeOf(err) === "NotImplemented") {
        this.conditional = "unsupported";
        return false;
      }
      throw this.failure("PutObject (conditional-write probe)", Key, err);
    }
    this.conditional = "supported";
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })).catch(() => undefined);
    return true;
  }

  private putFailure(operation: string, key: string, Key: string, err: unknown, options: PutOptions): Error {
    if (options.ifNoneMatch !== undefined || options.ifMatch !== undefined) {
      const status = statusOf(err);
      const code = codeOf(err);
      if (status === 501 || code === "NotImplemented") {
        this.conditional = "unsupported";
        return new ConditionalWriteUnsupportedError(key, this.description);
      }
      if (status === 412 || code === "PreconditionFailed") {
        this.conditional = "supported";
        return new PreconditionFailedError(key, options.ifNoneMatch ? "already exists" : "changed since it was read");
      }
      if (status === 409 || code === "ConditionalRequestConflict") {
        return new PreconditionFailedError(key, "a concurrent write to it was in progress");
      }
      if (options.ifMatch !== undefined && isNotFound(err) && code !== "NoSuchBucket") {
        return new PreconditionFailedError(key, "does not exist");
      }
    }
    return this.failure(operation, Key, err);
  }

  private failure(operation: string, Key: string, err: unknown): S3StoreError {
    return new S3StoreError(operation, this.bucket, Key, codeOf(err), statusOf(err), scrubbedMessage(err, this.secrets));
  }
}

/**
 * Creates the bucket an "s3://bucket[/prefix]" URL names unless it exists. Publishing never
 * does this (buckets are the operator's); tests and first-time setup do.
 */
export async function ensureBucket(url: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { bucket } = parseS3Url(url);
  silenceNodeVersionNotice();
  const client = new S3Client(s3ClientConfig(env));
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const code = codeOf(err);
    if (code === "BucketAlreadyOwnedByYou" || code === "BucketAlreadyExists") return;
    throw new S3StoreError("CreateBucket", bucket, "", code, statusOf(err), scrubbedMessage(err, secretsOf(env)));
  } finally {
    client.destroy();
  }
}

/**
 * The SDK prints a notice on every run under Node < 22 about its own future releases; Node 20
 * is this project's supported floor, so the notice is noise in every command's output. An
 * explicit setting of the variable is left alone.
 */
function silenceNodeVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
