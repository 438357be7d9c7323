import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { formatMetadata, MetadataError, parseMetadata, type HexMetadata, type MetadataLayout } from "./metadata.js";
import { readTar, TarFormatError, writeTar, type TarEntry } from "./tar.js";

/** hex_core ≥ 0.10.1 refuses larger tarballs; older rebar3 (hex_core 0.7.1) stops at 8 MiB. */
export const MAX_TARBALL_BYTES = 16 * 1024 * 1024;
export const MAX_CONTENTS_BYTES = 128 * 1024 * 1024;
const OUTER_FILES = ["VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz"] as const;

export class TarballError extends Error {
  override name = "TarballError";
  /** The part of the tarball at fault, as an API error names it: tar, checksum, metadata, name, version. */
  constructor(message: string, readonly field: string = "tar") {
    super(message);
  }
}

export interface HexTarball {
  metadata: HexMetadata;
  /** SHA-256 of VERSION ‖ metadata.config ‖ contents.tar.gz (the CHECKSUM entry). */
  innerChecksum: Uint8Array;
  /** SHA-256 of the whole tarball: the release's identity. */
  outerChecksum: Uint8Array;
  /** Paths of the files inside contents.tar.gz. */
  contents: string[];
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/**
 * Checks a package tarball as every hex_core unpacker does (exactly four entries, VERSION "3",
 * CHECKSUM equal to the recomputed inner checksum, parseable metadata) plus what a publisher
 * must guarantee (safe inner paths).
 */
export function readHexTarball(bytes: Uint8Array, what = "tarball"): HexTarball {
  if (bytes.length > MAX_TARBALL_BYTES) throw new TarballError(`${what}: ${bytes.length} bytes is over the 16 MiB limit of Hex clients`);
  let entries: TarEntry[];
  try {
    entries = readTar(bytes);
  } catch (err) {
    throw new TarballError(`${what}: not a tar file (${(err as Error).message})`);
  }
  const byName = new Map<string, TarEntry>();
  for (const e of entries) {
    if (!(OUTER_FILES as readonly string[]).includes(e.path) || e.type !== "file") {
      throw new TarballError(`${what}: unexpected entry ${JSON.stringify(e.path)} (a Hex tarball holds exactly VERSION, CHECKSUM, metadata.config and contents.tar.gz)`);
    }
    if (byName.has(e.path)) throw new TarballError(`${what}: ${e.path} appears twice`);
    byName.set(e.path, e);
  }
  for (const f of OUTER_FILES) if (!byName.has(f)) throw new TarballError(`${what}: missing ${f}`);
  const version = byName.get("VERSION")!.data;
  const checksumText = Buffer.from(byName.get("CHECKSUM")!.data).toString("latin1");
  const metadataBytes = byName.get("metadata.config")!.data;
  const contentsGz = byName.get("contents.tar.gz")!.data;
  const versionText = Buffer.from(version).toString("latin1");
  if (versionText !== "3") throw new TarballError(`${what}: VERSION is ${JSON.stringify(versionText)}, expected exactly "3"`);
  if (!/^[0-9a-fA-F]{64}$/.test(checksumText)) throw new TarballError(`${what}: CHECKSUM is not 64 hex digits`, "checksum");
  const inner = sha256(version, metadataBytes, contentsGz);
  if (Buffer.from(inner).toString("hex") !== checksumText.toLowerCase()) {
    throw new TarballError(`${what}: CHECKSUM ${checksumText} does not match the contents (computed ${Buffer.from(inner).toString("hex").toUpperCase()})`, "checksum");
  }
  if (metadataBytes.length > 1024 * 1024) throw new TarballError(`${what}: metadata.config is over 1 MiB`, "metadata");
  let metadata: HexMetadata;
  try {
    metadata = parseMetadata(new TextDecoder("utf-8").decode(metadataBytes));
  } catch (err) {
    if (err instanceof MetadataError) throw new TarballError(`${what}: ${err.message}`, err.field ?? "metadata");
    throw err;
  }
  let inside: TarEntry[];
  try {
    inside = readTar(gunzipSync(contentsGz, { maxOutputLength: MAX_CONTENTS_BYTES }));
  } catch (err) {
    const detail = err instanceof TarFormatError ? err.message : "not gzip data or too large";
    throw new TarballError(`${what}: contents.tar.gz is not a valid gzip'd tar (${detail})`);
  }
  for (const e of inside) checkInnerPath(e, what);
  return { metadata, innerChecksum: inner, outerChecksum: sha256(bytes), contents: inside.filter((e) => e.type === "file").map((e) => e.path) };
}

function checkInnerPath(e: TarEntry, what: string): void {
  const bad = (why: string) => new TarballError(`${what}: contents.tar.gz entry ${JSON.stringify(e.path)} ${why}`);
  if (e.path === "" || e.path.startsWith("/") || /^[a-zA-Z]:/.test(e.path)) throw bad("is not a relative path");
  if (e.path.split("/").includes("..")) throw bad('contains ".."');
  if (e.type === "symlink") {
    const target = e.linkname ?? "";
    if (target.startsWith("/")) throw bad("is a symlink to an absolute path");
    const parts = e.path.split("/").slice(0, -1);
    for (const seg of target.split("/")) {
      if (seg === "..") {
        if (parts.length === 0) throw bad("is a symlink that points outside the package");
        parts.pop();
      } else if (seg !== "." && seg !== "") parts.push(seg);
    }
  }
}

export interface PackageFile {
  path: string;
  data: Uint8Array;
  executable?: boolean;
  /** A symlink's target; data is ignored then. */
  symlink?: string;
}

/** Builds a format-3 tarball the way hex_core does (fixed mtimes, uppercase CHECKSUM). */
export function buildHexTarball(metadata: HexMetadata, files: PackageFile[], layout?: MetadataLayout): { bytes: Uint8Array; tarball: HexTarball } {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const contents = gzipSync(
    writeTar(
      sorted.map((f): TarEntry =>
        f.symlink !== undefined
          ? { path: f.path, type: "symlink", mode: 0o777, data: new Uint8Array(0), linkname: f.symlink }
          : { path: f.path, type: "file", mode: f.executable ? 0o755 : 0o644, data: f.data },
      ),
    ),
    { level: 9 },
  );
  const version = new TextEncoder().encode("3");
  const meta = new TextEncoder().encode(formatMetadata(metadata, layout));
  const inner = sha256(version, meta, contents);
  const checksum = new TextEncoder().encode(Buffer.from(inner).toString("hex").toUpperCase());
  const bytes = writeTar([
    { path: "VERSION", type: "file", mode: 0o644, data: version },
    { path: "CHECKSUM", type: "file", mode: 0o644, data: checksum },
    { path: "metadata.config", type: "file", mode: 0o644, data: meta },
    { path: "contents.tar.gz", type: "file", mode: 0o644, data: contents },
  ]);
  return { bytes, tarball: readHexTarball(bytes) };
}
