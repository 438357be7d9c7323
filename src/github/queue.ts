// Keyed serial queue: jobs with the same key run one after another, in arrival order; different
// keys run side by side. The webhook only enqueues, so it answers at once.

export class KeyedQueue {
  private tails = new Map<string, Promise<unknown>>();
  private pending = new Set<Promise<unknown>>();

  /** Runs fn after every earlier job with this key has settled; resolves with fn's result. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.tails.set(key, settled);
    this.track(settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }

  /** Keeps a detached task in view of idle(). */
  track(p: Promise<unknown>): void {
    const settled = p.catch(() => undefined);
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves when nothing is queued or running (including jobs enqueued meanwhile). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** Remembers recent keys (delivery ids, pushes), so a redelivered event does nothing. */
export class RecentSet {
  private keys = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  /** true the first time a key is seen. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value!);
    return true;
  }

  delete(key: string): void {
    this.keys.delete(key);
  }
}
