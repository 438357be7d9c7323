/**
 * Docs tarballs (`mix hex.publish docs`, `rebar3 hex publish docs`): a gzip'd tar of the doc
 * directory. Checked once when uploaded and read again when a page is served; members must
 * stay inside the docs root (relative paths, no "..", no links) and sizes are capped, so the
 * bytes stored are safe to unpack and to serve member by member.
 */
import { gunzipSync } from "node:zlib";
import { readTar, TarFormatError } from "./tar.js";

/** hex.pm's limits: 16 MiB as uploaded, 128 MiB unpacked. */
export const MAX_DOCS_BYTES = 16 * 1024 * 1024;
export const MAX_DOCS_UNCOMPRESSED_BYTES = 128 * 1024 * 1024;
export const MAX_DOCS_FILES = 20_000;

export class DocsTarballError extends Error {
  override name = "DocsTarballError";
}

export interface DocsTarball {
  /** Member path (relative, "/"-separated) → bytes. Directories are implied. */
  files: Map<string, Uint8Array>;
}

const SEGMENT = /^[^\u0000-\u001f\u007f\\]+$/;

export function readDocsTarball(bytes: Uint8Array, what = "docs tarball"): DocsTarball {
  if (bytes.length > MAX_DOCS_BYTES) throw new DocsTarballError(`${what}: too big (${bytes.length} bytes; at most ${MAX_DOCS_BYTES})`);
  let tar: Uint8Array;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: MAX_DOCS_UNCOMPRESSED_BYTES });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new DocsTarballError(`${what}: too big (uncompressed; at most ${MAX_DOCS_UNCOMPRESSED_BYTES} bytes)`);
    throw new DocsTarballError(`${what}: not gzip data`);
  }
  let entries;
  try {
    entries = readTar(tar);
  } catch (err) {
    throw new DocsTarballError(`${what}: not a tar file (${err instanceof TarFormatError ? err.message : "unreadable"})`);
  }
  if (entries.length > MAX_DOCS_FILES) throw new DocsTarballError(`${what}: more than ${MAX_DOCS_FILES} entries`);
  const files = new Map<string, Uint8Array>();
  for (const e of entries) {
    const raw = e.path;
    const bad = (why: string) => new DocsTarballError(`${what}: entry ${JSON.stringify(raw.slice(0, 200))} ${why}`);
    if (raw.startsWith("/") || /^[a-zA-Z]:/.test(raw)) throw bad("is an absolute path");
    const segments = raw.split("/").filter((s, i, all) => !(s === "." || (s === "" && (i === 0 || i === all.length - 1))));
    if (segments.includes("..")) throw bad('contains ".."');
    if (segments.some((s) => s === "" || !SEGMENT.test(s))) throw bad("is not a plain relative path");
    if (e.type === "symlink") throw bad("is a link (links are not accepted in docs)");
    if (e.type === "directory") continue;
    if (segments.length === 0) throw bad("has no name");
    const p = segments.join("/");
    if (files.has(p)) throw bad("appears twice");
    files.set(p, e.data);
  }
  for (const p of files.keys()) {
    // A file and a directory of the same name cannot both be unpacked.
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) if (files.has(parts.slice(0, i).join("/"))) throw new DocsTarballError(`${what}: ${JSON.stringify(p)} lies under the file ${JSON.stringify(parts.slice(0, i).join("/"))}`);
  }
  if (files.size === 0) throw new DocsTarballError(`${what}: holds no files`);
  return { files };
}
