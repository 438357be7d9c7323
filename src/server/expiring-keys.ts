/**
 * A bounded memory of keys that expire: the upstream 404s the proxy remembers so it does not ask
 * again for every request. Misses of random hashes are free for anyone to send, so the memory
 * drops expired keys as it goes and never holds more than `maxKeys` (the oldest go first).
 */
export class ExpiringKeys {
  /** key -> expiry time; insertion order is expiry order, since every key gets the same TTL. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.until.size;
  }

  add(key: string): void {
    const now = this.now();
    this.until.delete(key);
    this.until.set(key, now + this.ttlMs);
    for (const [k, t] of this.until) {
      if (t > now && this.until.size <= this.maxKeys) break;
      this.until.delete(k);
    }
  }

  has(key: string): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > this.now()) return true;
    this.until.delete(key);
    return false;
  }
}
