/**
 * A failed S3 request, named by operation, bucket and key. Built from the SDK error's code,
 * status and message only: the SDK error itself carries the raw response and request
 * metadata, so it is not kept as `cause`.
 */
export class S3StoreError extends Error {
  constructor(
    readonly operation: string,
    readonly bucket: string,
    readonly key: string,
    readonly code: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    const where = `s3://${bucket}${key ? `/${key}` : ""}`;
    // HEAD responses have no body, so the SDK knows only the status.
    const known = !/^(Unknown|UnknownError|Error)$/.test(code);
    let what: string;
    if (known) what = `${code}${status ? ` (HTTP ${status})` : ""}${detail && detail !== code ? `: ${detail}` : ""}`;
    else if (status) what = `HTTP ${status}${STATUS_HINTS[status] ? ` (${STATUS_HINTS[status]})` : detail ? `: ${detail}` : ""}`;
    else what = detail || "unknown error";
    super(`S3 ${operation} ${where} failed: ${what}${configHint(detail)}`);
    this.name = "S3StoreError";
  }
}

/** The SDK's configuration errors, with the setting that fixes them. */
function configHint(detail: string): string {
  if (/region is missing/i.test(detail)) return " (set AWS_REGION)";
  if (/could not load credentials/i.test(detail)) return " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)";
  return "";
}

const STATUS_HINTS: Record<number, string> = {
  400: "bad request",
  403: "access denied or bad credentials",
  404: "not found",
  409: "conflict",
  412: "precondition failed",
  500: "server error",
  503: "service unavailable",
};

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

export function statusOf(err: unknown): number | undefined {
  const status = (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

export function codeOf(err: unknown): string {
  const e = err as SdkErrorShape | null;
  for (const c of [e?.Code, e?.code, e?.name]) if (typeof c === "string" && c !== "" && c !== "Error") return c;
  return "Error";
}

export function isNotFound(err: unknown): boolean {
  const code = codeOf(err);
  return statusOf(err) === 404 || code === "NoSuchKey" || code === "NotFound";
}

/** Worth another attempt with a fresh body: throttling, server errors, dropped connections. */
export function isTransient(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status === 429 || (status >= 500 && status !== 501);
  const code = codeOf(err);
  return ["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNREFUSED", "TimeoutError", "RequestTimeout"].includes(code);
}

/** The error's message with every secret replaced, and signed query strings cut off. */
export function scrubbedMessage(err: unknown, secrets: readonly string[]): string {
  let text = typeof (err as SdkErrorShape | null)?.message === "string" ? String((err as SdkErrorShape).message) : "";
  for (const s of secrets) text = text.split(s).join("***");
  return text.replace(/([?&])(X-Amz-[A-Za-z-]+)=[^&\s"']*/g, "$1$2=***");
}
