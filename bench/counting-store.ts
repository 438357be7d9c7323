// A store wrapper for the benchmarks: counts the reads, writes and listings that reach the
// store, so a figure can say how many objects an operation touched.
import type { GetOptions, ObjectListing, PutOptions, PutSource, Store } from "../src/store/store.js";

/** Counts what reaches the store. */
export class CountingStore implements Store {
  reads = 0;
  writes = 0;
  lists = 0;
  listed = 0;
  constructor(readonly inner: Store) {}
  get description() {
    return this.inner.description;
  }
  reset() {
    this.reads = this.writes = this.lists = this.listed = 0;
  }
  head(key: string) {
    this.reads++;
    return this.inner.head(key);
  }
  get(key: string, o?: GetOptions) {
    this.reads++;
    return this.inner.get(key, o);
  }
  put(key: string, s: PutSource, o?: PutOptions) {
    this.writes++;
    return this.inner.put(key, s, o);
  }
  delete(key: string) {
    this.writes++;
    return this.inner.delete(key);
  }
  async *list(prefix: string): AsyncIterable<ObjectListing> {
    this.lists++;
    for await (const e of this.inner.list(prefix)) {
      this.listed++;
      yield e;
    }
  }
}
