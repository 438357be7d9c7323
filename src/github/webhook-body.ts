// Reads a webhook body (bounded) before Probot sees it, so that a correctly signed delivery
// whose payload lacks what the App reads (a push without `repository`) is answered with a
// clear 400 instead of a TypeError deep in a handler and a 500.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The body as text, or null when it is larger than max (the rest is left unread). */
export async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > max) return null;
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

function signedBy(body: string, signature: string | undefined, secret: string): boolean {
  if (!signature?.startsWith("sha256=")) return false;
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * What is missing from a signed push delivery, or null when it has what the App reads (or is
 * not a signed push: Probot answers those itself).
 */
export function pushPayloadProblem(body: string, event: string | undefined, signature: string | undefined, secret: string): string | null {
  if (event !== "push" || !signedBy(body, signature, secret)) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return "the push payload is not JSON";
  }
  if (typeof payload !== "object" || payload === null) return "the push payload is not a JSON object";
  const p = payload as Record<string, unknown>;
  const repo = p.repository as Record<string, unknown> | undefined;
  if (typeof repo !== "object" || repo === null) return 'the push payload has no "repository" object';
  for (const field of ["full_name", "clone_url"]) {
    if (typeof repo[field] !== "string") return `the push payload's repository has no "${field}"`;
  }
  if (typeof p.ref !== "string") return 'the push payload has no "ref"';
  if (typeof p.after !== "string") return 'the push payload has no "after"';
  return null;
}
