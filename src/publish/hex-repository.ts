import type { KeyObject } from "node:crypto";
import { buffer } from "node:stream/consumers";
import type { Package, Versions, VersionsPackage } from "../hex/messages.js";
import { mergeVersions, namesOf, openNames, openPackage, openVersions, releaseOf, sameBytes, signNames, signPackage, signVersions, versionsEntry, withRelease } from "../hex/registry.js";
import { parsePublicKey, samePublicKey, spkiPem } from "../hex/signing.js";
import { readHexTarball } from "../hex/tarball.js";
import { ConditionalWriteUnsupportedError, PreconditionFailedError, type Store } from "../store/store.js";
import { putOnce } from "../store/put-once.js";
import { ReleaseExistsError } from "./hex-errors.js";

function alreadyPublished(name: string, version: string, key: string, stored: Uint8Array): ReleaseExistsError {
  const checksum = Buffer.from(stored).toString("hex");
  return new ReleaseExistsError(`${name} ${version} is already published with different bytes (${key}, sha256 ${checksum}); pass --replace to overwrite it`, checksum);
}

export const HEX_REPO_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_ATTEMPTS = 50;
const REPAIRS_PER_UPDATE = 4;

function pickSome<T>(items: T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/**
 * One Hex repository in a store (`repos/<name>/…`) and the key that signs it. Index updates are
 * read-modify-write loops: with conditional writes (If-Match / If-None-Match) a lost update is
 * impossible; on a store without them each write is followed by re-reads after a settle delay,
 * and every update also re-derives missing entries from the listing, so concurrent publishers
 * converge and any later publish repairs what a race dropped.
 */
export class HexRepository {
  readonly prefix: string;
  private conditional = true;

  constructor(
    readonly store: Store,
    readonly name: string,
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    if (!HEX_REPO_NAME.test(name)) throw new Error(`--repo: ${JSON.stringify(name)} is not a valid repository name (lowercase letters, digits, _ and -)`);
    this.prefix = `repos/${name}`;
  }

  tarballKey = (name: string, version: string) => `${this.prefix}/tarballs/${name}-${version}.tar`;
  docsKey = (name: string, version: string) => `${this.prefix}/docs/${name}-${version}.tar.gz`;
  packageKey = (name: string) => `${this.prefix}/packages/${name}`;

  private async read(key: string): Promise<{ bytes: Buffer; etag: string } | null> {
    const obj = await this.store.get(key);
    if (!obj) return null;
    return { bytes: await buffer(obj.body), etag: obj.etag };
  }

  /** Refuses to sign a repository whose stored public key or package files say another key. */
  async checkKey(packageName?: string): Promise<void> {
    const stored = await this.read(`${this.prefix}/public_key`);
    if (stored) {
      const key = parsePublicKey(stored.bytes.toString("utf8"), `${this.prefix}/public_key`);
      if (!samePublicKey(key, this.publicKey)) {
        throw new Error(`the private key does not belong to repository ${this.name}: ${this.prefix}/public_key in ${this.store.description} is another key`);
      }
    }
    const versions = await this.read(`${this.prefix}/versions`);
    if (versions) {
      try {
        openVersions(versions.bytes, this.publicKey, this.name, `${this.prefix}/versions`);
      } catch (err) {
        throw new Error(`${(err as Error).message} (is --private-key the key of repository ${this.name}?)`);
      }
    }
    if (packageName !== undefined) await this.readPackage(packageName);
  }

  async readPackage(name: string): Promise<{ pkg: Package; etag: string; bytes: Buffer } | null> {
    const got = await this.read(this.packageKey(name));
    if (!got) return null;
    try {
      return { pkg: openPackage(got.bytes, this.publicKey, this.name, name, this.packageKey(name)), etag: got.etag, bytes: got.bytes };
    } catch (err) {
      throw new Error(`${(err as Error).message} (is --private-key the key of repository ${this.name}?)`);
    }
  }

  /** Writes the tarball create-only. Same bytes: nothing to do; other bytes: refused unless replace. */
  async putTarball(bytes: Uint8Array, name: string, version: string, outer: Uint8Array, replace: boolean): Promise<"created" | "unchanged" | "replaced"> {
    const key = this.tarballKey(name, version);
    const existing = await this.read(key);
    if (existing) {
      const stored = readHexTarball(existing.bytes, key).outerChecksum;
      if (sameBytes(stored, outer)) return "unchanged";
      if (!replace) throw alreadyPublished(name, version, key, stored);
      await this.write(key, bytes, existing.etag, "application/octet-stream");
      return "replaced";
    }
    const outcome = await putOnce(this.store, key, bytes, { contentType: "application/octet-stream" });
    if (outcome === "exists") return this.putTarball(bytes, name, version, outer, replace);
    return "created";
  }

  /** Refuses other bytes for a published version unless replacing; returns the stored checksum when it differs (what a replace loses). */
  async checkTarballReplaceable(bytes: Uint8Array, name: string, version: string, outer: Uint8Array, replace: boolean): Promise<string | null> {
    const key = this.tarballKey(name, version);
    const existing = await this.read(key);
    if (!existing) return null;
    const stored = readHexTarball(existing.bytes, key).outerChecksum;
    if (sameBytes(stored, outer)) return null;
    if (!replace) throw alreadyPublished(name, version, key, stored);
    return Buffer.from(stored).toString("hex");
  }

  /**
   * A conditional write when the store can; otherwise a plain one. Returns false when the
   * condition failed (someone else wrote first).
   */
  private async write(key: string, bytes: Uint8Array, etag: string | null, contentType: string): Promise<boolean> {
    if (this.conditional) {
      try {
        await this.store.put(key, bytes, { contentType, ...(etag === null ? { ifNoneMatch: "*" as const } : { ifMatch: etag }) });
        return true;
      } catch (err) {
        if (err instanceof PreconditionFailedError) return false;
        if (!(err instanceof ConditionalWriteUnsupportedError)) throw err;
        this.conditional = false;
        this.log(`${this.store.description} has no conditional writes: using write-then-verify`);
      }
    }
    await this.store.put(key, bytes, { contentType });
    return true;
  }

  /**
   * Applies `change` to packages/<name> until it sticks. `done` tells whether a stored package
   * already reflects the change (for the re-check on stores without conditional writes).
   */
  async updatePackage(name: string, change: (pkg: Package) => Package, done: (pkg: Package) => boolean, notRepaired: string[] = []): Promise<Package> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const started = Date.now();
      const current = await this.readPackage(name);
      let pkg = change(current?.pkg ?? { name, repository: this.name, releases: [] });
      // Releases whose tarball is stored but which packages/<name> lacks (a write lost to a race
      // on a store without conditional writes) come back with every update of the package.
      // A revert passes the version it removes: its tarball is deleted only after this write.
      pkg = await this.repairFromTarballs(pkg, notRepaired);
      const body = signPackage(pkg, this.privateKey);
      // Signing is deterministic: equal bytes mean nothing changed, so a re-run writes nothing.
      if (current && sameBytes(current.bytes, body)) return pkg;
      const wrote = await this.write(this.packageKey(name), body, current?.etag ?? null, "application/octet-stream");
      if (!wrote) continue;
      if (this.conditional) return pkg;
      if (await this.settled(started, async () => {
        const now = await this.readPackage(name);
        return now !== null && done(now.pkg);
      })) return (await this.readPackage(name))!.pkg;
    }
    throw new Error(`${this.packageKey(name)}: gave up after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /** Adds releases whose tarballs are stored but which a racing writer dropped from packages/<name>. */
  private async repairFromTarballs(pkg: Package, notRepaired: string[]): Promise<Package> {
    const prefix = `${this.prefix}/tarballs/${pkg.name}-`;
    let out = pkg;
    for await (const entry of this.store.list(prefix)) {
      const version = entry.key.slice(prefix.length, -".tar".length);
      if (!entry.key.endsWith(".tar") || notRepaired.includes(version) || out.releases.some((r) => r.version === version)) continue;
      const got = await this.read(entry.key);
      if (!got) continue;
      let tarball;
      try {
        tarball = readHexTarball(got.bytes, entry.key);
      } catch (err) {
        this.log(`skipping ${entry.key}: ${(err as Error).message}`);
        continue;
      }
      if (tarball.metadata.name !== pkg.name || tarball.metadata.version !== version) continue;
      out = withRelease(out, releaseOf(tarball, this.name));
    }
    return out;
  }

  /**
   * Re-checks, twice, after a delay longer than a competing writer's read-modify-write (which
   * takes about as long as ours): a writer that read before our write has landed by then. On
   * failure, waits a random fraction of that before the caller retries, so writers spread out.
   */
  private async settled(started: number, check: () => Promise<boolean>): Promise<boolean> {
    const span = Date.now() - started;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 2; i++) {
      await sleep(span * 1.5 + Math.random() * span + 50);
      if (!(await check())) {
        await sleep(Math.random() * span);
        return false;
      }
    }
    return true;
  }

  /** Brings `versions` and `names` up to date for the changed packages (and any the listing shows missing). */
  async updateIndexes(changed: string[]): Promise<Versions> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const started = Date.now();
      const current = await this.read(`${this.prefix}/versions`);
      const before = current ? openVersions(current.bytes, this.publicKey, this.name, `${this.prefix}/versions`).packages : [];
      const known = new Set(before.map((p) => p.name));
      // Read after versions: a packages/<name> written before that read is seen here.
      const own = (await Promise.all(changed.map((name) => this.readPackage(name)))).flatMap((p) => (p ? [versionsEntry(p.pkg)] : []));
      // Packages listed but absent from versions: a publisher that stopped midway, or one racing
      // us (which adds itself). A few per update keeps the work per publish bounded; every
      // publish repairs a few more.
      const missing = (await this.listPackages()).filter((name) => !known.has(name) && !changed.includes(name));
      const repaired: VersionsPackage[] = [];
      for (const p of await Promise.all(pickSome(missing, REPAIRS_PER_UPDATE).map((name) => this.readPackage(name)))) if (p) repaired.push(versionsEntry(p.pkg));
      const updates = [...own, ...repaired];
      const versions = mergeVersions(this.name, before, updates);
      const body = signVersions(versions, this.privateKey);
      const unchanged = current !== null && sameBytes(current.bytes, body);
      if (!unchanged && !(await this.write(`${this.prefix}/versions`, body, current?.etag ?? null, "application/octet-stream"))) continue;
      if (!(await this.writeNames(versions))) continue;
      if (this.conditional) return versions;
      // Each publisher checks its own packages; what others lost they re-check themselves, and
      // the listing above restores anything missing on every write.
      const ok = await this.settled(started, async () => {
        const now = await this.read(`${this.prefix}/versions`);
        if (!now) return false;
        const have = new Map(openVersions(now.bytes, this.publicKey, this.name, `${this.prefix}/versions`).packages.map((p) => [p.name, p]));
        for (const u of own) {
          const h = have.get(u.name);
          if (!h || !u.versions.every((v) => h.versions.includes(v)) || h.retired.length !== u.retired.length) return false;
        }
        const storedNames = await this.read(`${this.prefix}/names`);
        if (!storedNames) return false;
        const named = new Set(openNames(storedNames.bytes, this.publicKey, this.name, `${this.prefix}/names`).packages.map((p) => p.name));
        return own.every((u) => named.has(u.name));
      });
      if (ok) return versions;
    }
    throw new Error(`${this.prefix}/versions: gave up after ${MAX_ATTEMPTS} conflicting writes`);
  }

  private async writeNames(versions: Versions): Promise<boolean> {
    const key = `${this.prefix}/names`;
    const current = await this.read(key);
    const body = signNames(namesOf(versions), this.privateKey);
    if (current && sameBytes(current.bytes, body)) return true;
    return this.write(key, body, current?.etag ?? null, "application/octet-stream");
  }

  async listPackages(): Promise<string[]> {
    const prefix = `${this.prefix}/packages/`;
    const out: string[] = [];
    for await (const e of this.store.list(prefix)) {
      const name = e.key.slice(prefix.length);
      if (!name.includes("/")) out.push(name);
    }
    return out;
  }

  async ensurePublicKey(): Promise<boolean> {
    return (await putOnce(this.store, `${this.prefix}/public_key`, spkiPem(this.publicKey), { contentType: "application/x-pem-file" })) === "created";
  }
}
