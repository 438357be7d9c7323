import { Readable } from "node:stream";
import type { GetOptions, ObjectInfo, ObjectListing, PutOptions, PutResult, PutSource, Store, StoredObject } from "../../src/store/store.js";

/**
 * What the k-th operation suffers:
 * - fail: it throws before reaching the store (nothing happens);
 * - hang: it reaches the store and completes there in the background, but the caller gets a
 *   timeout error first (a network timeout where the request did arrive);
 * - truncate: a read returns a body cut off at half its bytes that ends cleanly, a listing
 *   stops at half its entries; a write is cut off (connection reset) and stores nothing.
 */
export type FaultMode = "fail" | "hang" | "truncate";

export interface Fault {
  /** 1-based index of the operation to hit. */
  k: number;
  mode: FaultMode;
  /** How long a hung operation keeps its caller waiting (default 20 ms). */
  hangMs?: number;
}

export class InjectedFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InjectedFault";
  }
}

/**
 * A Store that passes every operation to another one, numbers them (head, get, put, delete and
 * list each count one), and injects one fault into the k-th. `ops` records what was called, so
 * a clean run tells how many k there are.
 */
export class FaultyStore implements Store {
  readonly ops: string[] = [];
  /** The operation the fault hit, once it has. */
  hit?: string;

  constructor(
    readonly inner: Store,
    private readonly fault?: Fault,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  /** The fault for this call, if it is the k-th. */
  private next(op: string): FaultMode | null {
    this.ops.push(op);
    if (this.fault && this.ops.length === this.fault.k) {
      this.hit = `${this.fault.mode} ${op}`;
      return this.fault.mode;
    }
    return null;
  }

  private async timeout<T>(op: string, work: Promise<T>, cleanup: (value: T) => void = () => undefined): Promise<never> {
    // The store finishes the operation anyway; the caller has already given up.
    work.then(cleanup, () => undefined);
    await new Promise((r) => setTimeout(r, this.fault?.hangMs ?? 20));
    throw new InjectedFault(`injected: ${op} timed out`);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const mode = this.next(`head ${key}`);
    if (mode === "fail" || mode === "truncate") throw new InjectedFault(`injected: head ${key} failed`);
    if (mode === "hang") return this.timeout(`head ${key}`, this.inner.head(key));
    return this.inner.head(key);
  }

  async get(key: string, options?: GetOptions): Promise<StoredObject | null> {
    const mode = this.next(`get ${key}`);
    if (mode === "fail") throw new InjectedFault(`injected: get ${key} failed`);
    if (mode === "hang") return this.timeout(`get ${key}`, this.inner.get(key, options), (o) => o?.body.destroy());
    const obj = await this.inner.get(key, options);
    if (mode !== "truncate" || !obj) return obj;
    const chunks: Buffer[] = [];
    for await (const c of obj.body) chunks.push(c as Buffer);
    const all = Buffer.concat(chunks);
    return { ...obj, body: Readable.from([all.subarray(0, Math.floor(all.length / 2))]) };
  }

  async put(key: string, source: PutSource, options?: PutOptions): Promise<PutResult> {
    const mode = this.next(`put ${key}`);
    if (mode === "fail") throw new InjectedFault(`injected: put ${key} failed`);
    if (mode === "truncate") throw new InjectedFault(`injected: put ${key}: connection reset mid-upload`);
    if (mode === "hang") return this.timeout(`put ${key}`, this.inner.put(key, source, options));
    return this.inner.put(key, source, options);
  }

  async delete(key: string): Promise<void> {
    const mode = this.next(`delete ${key}`);
    if (mode === "fail" || mode === "truncate") throw new InjectedFault(`injected: delete ${key} failed`);
    if (mode === "hang") return this.timeout(`delete ${key}`, this.inner.delete(key));
    return this.inner.delete(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectListing> {
    const mode = this.next(`list ${prefix}`);
    if (mode === "fail") throw new InjectedFault(`injected: list ${prefix} failed`);
    if (mode === "hang") {
      await new Promise((r) => setTimeout(r, this.fault?.hangMs ?? 20));
      throw new InjectedFault(`injected: list ${prefix} timed out`);
    }
    if (mode !== "truncate") {
      yield* this.inner.list(prefix);
      return;
    }
    const all: ObjectListing[] = [];
    for await (const o of this.inner.list(prefix)) all.push(o);
    yield* all.slice(0, Math.floor(all.length / 2));
  }
}
