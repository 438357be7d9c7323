import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { assertValidKey, InvalidKeyError } from "./store.js";

export interface S3Location {
  bucket: string;
  /** "" or a valid key ("acme/pkgs"), without slashes at either end. */
  prefix: string;
}

// Lenient on purpose: S3-compatible services (Swift, MinIO, R2) accept more than AWS's rules.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** Parses "s3://bucket[/prefix]". The message never echoes a URL that carries userinfo. */
export function parseS3Url(url: string): S3Location {
  const shown = url.includes("@") ? "(a URL with credentials in it)" : JSON.stringify(url);
  const m = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?$/.exec(url);
  const bucket = m?.[1] ?? "";
  if (!m || !BUCKET.test(bucket)) {
    throw new Error(`--store: invalid S3 store ${shown} (expected s3://bucket[/prefix])`);
  }
  const prefix = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix !== "") {
    try {
      assertValidKey(prefix);
    } catch (err) {
      if (err instanceof InvalidKeyError) {
        throw new Error(`--store: invalid prefix in S3 store ${shown} (segments of A-Z a-z 0-9 . _ @ + -, no "..")`);
      }
      throw err;
    }
  }
  return { bucket, prefix };
}

/**
 * The client configuration the standard AWS environment describes, read from `env` (not only
 * process.env) so that a command run with its own environment gets its own store.
 */
export function s3ClientConfig(env: NodeJS.ProcessEnv): S3ClientConfig {
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  // S3-compatible services mostly ignore the region but SigV4 needs one.
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? (endpoint ? "us-east-1" : undefined);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const config: S3ClientConfig = {
    region,
    // Swift's s3api rejects the SDK's default aws-chunked uploads with trailing checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Without a logger of our own the SDK console.warns on every failed streaming request,
    // including the expected 412 of a create-only write; errors reach the caller anyway.
    logger: silentLogger,
    // A service that stops answering must fail the publish, not hang it. The idle limit is
    // generous because `pkgpub serve` pauses a download while its client is slow to read.
    // More sockets than the SDK's 50: `pkgpub serve` holds one per download in progress.
    requestHandler: {
      connectionTimeout: 10_000,
      socketTimeout: 300_000,
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  };
  if (endpoint) {
    config.endpoint = endpoint;
    // Most S3-compatible services have no per-bucket DNS names.
    config.forcePathStyle = true;
  }
  if (accessKeyId && secretAccessKey) {
    config.credentials = { accessKeyId, secretAccessKey, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN) };
  } else if (nonEmpty(env.AWS_PROFILE)) {
    config.profile = env.AWS_PROFILE;
  }
  return config;
}

/** Where the store is, for messages: bucket, prefix and the endpoint's origin (never userinfo). */
export function describeS3(location: S3Location, endpoint: string | undefined): string {
  const where = `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ""}`;
  if (!endpoint) return where;
  try {
    return `${where} at ${new URL(endpoint).origin}`;
  } catch {
    return `${where} at a custom endpoint`;
  }
}

/** The secret values of env, so that messages can be scrubbed of them. */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  return [env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN].filter(
    (v): v is string => typeof v === "string" && v.length >= 4,
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

const noop = (): void => undefined;
const silentLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };
