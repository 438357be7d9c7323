/**
 * Request bodies, bounded before they are read: a declared Content-Length over the limit is
 * refused with 413 before `100 Continue` is sent (so the client never uploads it), a body that
 * grows past the limit is cut, and one that stops early is an error; nothing is written from
 * a body that did not arrive whole.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./respond.js";

export interface BodyLimit {
  maxBytes: number;
  /** The field an oversized body is reported under (hex.pm: "tar"). */
  field: string;
}

/** Checks the declared size; call before anything slow so refusals come before 100 Continue. */
export function checkDeclaredSize(req: IncomingMessage, limit: BodyLimit): void {
  const declared = req.headers["content-length"];
  if (declared !== undefined) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) throw new ApiError(400, "Bad request: invalid content-length");
    if (n > limit.maxBytes) throw tooBig(limit, n);
  } else if (req.headers["transfer-encoding"] === undefined) {
    throw new ApiError(411, "Length required: send a content-length");
  }
}

export async function readBody(req: IncomingMessage, res: ServerResponse, limit: BodyLimit): Promise<Buffer> {
  checkDeclaredSize(req, limit);
  // The client sent only headers and waits: now it may send the body.
  if (/^100-continue$/i.test(String(req.headers.expect ?? ""))) res.writeContinue();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: ApiError) => {
      if (done) return;
      done = true;
      reject(err);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit.maxBytes) {
        // Stop taking the body, but let the 413 out first (it goes with Connection: close);
        // the socket is cut once it is sent, so the rest is never read.
        req.pause();
        chunks.length = 0;
        res.once("finish", () => req.socket.destroy());
        res.once("close", () => req.socket.destroy());
        fail(tooBig(limit, size));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.on("aborted", () => fail(new ApiError(400, "the upload was cut off before its end")));
    req.on("error", () => fail(new ApiError(400, "the upload was cut off before its end")));
    req.on("close", () => {
      if (!req.complete) fail(new ApiError(400, "the upload was cut off before its end"));
    });
  });
}

function tooBig(limit: BodyLimit, n: number): ApiError {
  return new ApiError(413, "Payload too large", { [limit.field]: `too big (${n} bytes; at most ${limit.maxBytes})` });
}
