import type { Readable, Writable } from "node:stream";

export interface Sink {
  stream: Writable;
  /** A required sink failing fails the whole copy; an optional one (a client) is just dropped. */
  optional: boolean;
}

/**
 * Copies one source into several writables at the pace of the slowest live one (backpressure),
 * ending them all when the source ends. Resolves when the source is fully read and every
 * required sink has finished; rejects if the source or a required sink fails.
 */
export function fanOut(source: Readable, sinks: Sink[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const live = new Set(sinks);
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      source.destroy();
      for (const s of live) if (!s.optional) s.stream.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    // The sinks the source waits for. Kept by identity: a sink destroyed while backpressured no
    // longer reports writableNeedDrain, and must still release its place in the wait.
    const blocked = new Set<Sink>();
    const unblock = (sink: Sink) => {
      if (blocked.delete(sink) && blocked.size === 0 && !settled) source.resume();
    };
    const drop = (sink: Sink) => {
      if (!live.delete(sink)) return;
      unblock(sink);
    };
    for (const sink of sinks) {
      sink.stream.on("error", (err) => (sink.optional ? drop(sink) : fail(err)));
      sink.stream.on("close", () => {
        if (sink.optional && !sink.stream.writableFinished) drop(sink);
      });
    }
    source.on("data", (chunk: Buffer) => {
      for (const sink of live) {
        if (sink.stream.destroyed) {
          drop(sink);
          continue;
        }
        if (!sink.stream.write(chunk) && !blocked.has(sink)) {
          blocked.add(sink);
          sink.stream.once("drain", () => unblock(sink));
        }
      }
      if (blocked.size > 0) source.pause();
    });
    source.on("error", fail);
    source.on("end", () => {
      const required = [...live].filter((s) => !s.optional);
      for (const s of live) s.stream.end();
      Promise.all(
        required.map(
          (s) =>
            new Promise<void>((res, rej) => {
              if (s.stream.writableFinished) return res();
              s.stream.once("finish", () => res());
              s.stream.once("error", rej);
            }),
        ),
      ).then(() => {
        if (!settled) {
          settled = true;
          resolve();
        }
      }, fail);
    });
  });
}
