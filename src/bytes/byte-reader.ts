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

  /** Bytes up to (not including) the next newline, or null at end of stream. */
  async readLine(maxBytes = 65536): Promise<string | null> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (await this.fill()) {
      const nl = this.pending.indexOf(0x0a);
      const take = nl < 0 ? this.pending.length : nl;
      parts.push(this.pending.subarray(0, take));
      got += take;
      if (got > maxBytes) throw new Error(`line longer than ${maxBytes} bytes`);
      this.pending = this.pending.subarray(nl < 0 ? take : take + 1);
      this.offset += nl < 0 ? take : take + 1;
      if (nl >= 0) return Buffer.concat(parts, got).toString("utf8");
    }
    return got > 0 ? Buffer.concat(parts, got).toString("utf8") : null;
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

  /** Reads and discards everything left, so that errors of the source (a bad gzip trailer) surface. */
  async drain(): Promise<void> {
    while (await this.fill()) {
      this.offset += this.pending.length;
      this.pending = new Uint8Array(0);
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
