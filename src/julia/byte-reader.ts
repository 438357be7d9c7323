/**
 * Pull-based reads of exact byte counts from an async chunk stream, without holding more than
 * one chunk beyond what the caller asked for.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private done = false;
  /** Bytes consumed so far (offsets in error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (this.done) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      this.pending = next.value;
    }
    return true;
  }

  /** Exactly n bytes, or fewer only at end of stream. */
  async read(n: number): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = Math.min(n - got, this.pending.length);
      parts.push(this.pending.subarray(0, take));
      this.pending = this.pending.subarray(take);
      got += take;
    }
    this.offset += got;
    return Buffer.concat(parts, got);
  }

  /** Yields the next n bytes as chunks; throws if the stream ends first. */
  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new TruncatedError(this.offset, left);
      const take = Math.min(left, this.pending.length);
      const chunk = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      left -= take;
      this.offset += take;
      yield chunk;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)) {
      // discard
    }
  }

  /** Stops the source (e.g. closes a file or socket) when reading ends early. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

export class TruncatedError extends Error {
  constructor(offset: number, missing: number) {
    super(`truncated: the stream ended at byte ${offset} with ${missing} bytes still expected`);
    this.name = "TruncatedError";
  }
}
