import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { blobHash, BlobHasher } from "../julia/git-object.js";
import type { ArtifactInfo } from "../julia/registry-toml.js";
import { readTar, TarFormatError, type TarLimits } from "../julia/tar-reader.js";
import { canonicalOrder, writeTar } from "../julia/tar-writer.js";
import { PACKAGE_RULES, TreeModel } from "../julia/tree-model.js";
import { putOnce } from "../store/put-once.js";
import type { Store } from "../store/store.js";
import { downloadToFile, type DownloadOptions } from "./download.js";
import { gzipToFile } from "./gzip-file.js";
import { verifyTarball } from "./julia-tarball.js";

export interface ArtifactLimits extends DownloadOptions {
  tar: TarLimits;
}

export type ArtifactOutcome = "created" | "exists" | "no-download";

/**
 * Mirrors one artifact into `artifact/<git-tree-sha1>`: download (sha256 checked), unpack into
 * numbered temp files (member paths never touch the disk, so none can escape), check the tree
 * hash, re-pack canonically, verify, store.
 */
export async function mirrorArtifact(artifact: ArtifactInfo, store: Store, workDir: string, limits: ArtifactLimits): Promise<ArtifactOutcome> {
  const key = `artifact/${artifact.treeHash}`;
  if (await store.head(key)) return "exists";
  if (artifact.downloads.length === 0) return "no-download";
  const dir = path.join(workDir, `artifact-${artifact.treeHash}`);
  await mkdir(dir, { recursive: true });
  try {
    const failures: string[] = [];
    for (const [i, download] of artifact.downloads.entries()) {
      const file = path.join(dir, `download-${i}`);
      try {
        const got = await downloadToFile(download.url, file, limits);
        if (got.sha256 !== download.sha256) {
          // Not the hash it got: a refused or unexpected body's digest is not for the log.
          throw new Error(`the download's sha256 does not match the declared ${download.sha256}`);
        }
        const repacked = path.join(dir, `repacked-${i}.tar.gz`);
        await repack(file, path.join(dir, `members-${i}`), artifact.treeHash, repacked, limits.tar);
        await verifyTarball(repacked, artifact.treeHash, PACKAGE_RULES);
        return await putOnce(store, key, { path: repacked }, { contentType: "application/x-gzip" });
      } catch (err) {
        failures.push(`${download.url}: ${(err as Error).message}`);
      }
    }
    throw new Error(`artifact ${artifact.label} (${artifact.treeHash}): ${failures.join("; ")}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sniffs the archive's compression; only gzip and plain tar are unpacked here. */
async function openArchive(file: string): Promise<AsyncIterable<Uint8Array>> {
  const handle = await open(file, "r");
  const head = Buffer.alloc(512);
  const { bytesRead } = await handle.read(head, 0, 512, 0);
  await handle.close();
  if (head[0] === 0x1f && head[1] === 0x8b) return createReadStream(file).pipe(createGunzip());
  if (bytesRead >= 263 && head.subarray(257, 262).toString("latin1") === "ustar") return createReadStream(file);
  const kind =
    head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])) ? "zstd" :
    head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ? "xz" :
    head.subarray(0, 3).toString("latin1") === "BZh" ? "bzip2" : "unknown";
  throw new Error(`the download is not a gzip or tar archive (${kind} format)`);
}

async function repack(archive: string, membersDir: string, expected: string, out: string, limits: TarLimits): Promise<void> {
  await mkdir(membersDir);
  const tree = new TreeModel();
  let n = 0;
  for await (const { member, body } of readTar(await openArchive(archive), limits)) {
    const { parts } = member;
    if (tree.underSymlink(parts)) throw new TarFormatError(`${JSON.stringify(member.rawPath)} lies beneath a symlink`, member.offset);
    switch (member.type) {
      case "directory":
        tree.addDirectory(parts);
        break;
      case "symlink":
        if (escapesRoot(parts, member.link)) {
          throw new TarFormatError(`symlink ${JSON.stringify(member.rawPath)} points outside the artifact (${JSON.stringify(member.link)})`, member.offset);
        }
        tree.addLeaf(parts, { kind: "symlink", executable: false, hash: blobHash(Buffer.from(member.link, "utf8")), target: member.link });
        break;
      case "hardlink": {
        const target = tree.leafAt(member.link.split("/").filter((p) => p !== "" && p !== "."));
        if (!target || target.kind !== "file") throw new TarFormatError(`hard link ${JSON.stringify(member.rawPath)} does not name an earlier file`, member.offset);
        tree.addLeaf(parts, { ...target, executable: (member.mode & 0o100) !== 0 });
        break;
      }
      case "file": {
        const ref = path.join(membersDir, String(n++));
        const hasher = new BlobHasher(member.size);
        const hashing = async function* () {
          for await (const c of body) {
            hasher.update(c);
            yield c;
          }
        };
        await pipeline(Readable.from(hashing()), createWriteStream(ref, { flags: "wx" }));
        tree.addLeaf(parts, { kind: "file", executable: (member.mode & 0o100) !== 0, hash: hasher.digest(), size: member.size, ref });
        break;
      }
    }
  }
  const actual = tree.hash(PACKAGE_RULES);
  if (actual !== expected) throw new Error(`unpacked tree hash ${actual} does not match git-tree-sha1 ${expected}`);
  const entries = tree.entries();
  const refOf = new Map(entries.flatMap((e) => (e.type === "file" ? [[e.path, e.ref] as const] : [])));
  await gzipToFile(writeTar(canonicalOrder(entries), (e) => createReadStream(refOf.get(e.path)!)), out);
}

/** True when a symlink at `parts` with this target resolves outside the archive root. */
function escapesRoot(parts: readonly string[], target: string): boolean {
  if (target.startsWith("/")) return true;
  let depth = parts.length - 1;
  for (const seg of target.split("/")) {
    if (seg === "" || seg === ".") continue;
    depth += seg === ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}
