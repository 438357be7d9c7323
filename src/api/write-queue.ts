/**
 * One write at a time per repository inside this server: API publishes, retires and reverts to
 * the same repository would otherwise all re-read and re-sign the same indexes and retry each
 * other's conflicts (and, on a store without conditional writes, wait out each other's settle
 * delays). Writers in other processes (the CLI, other replicas) are still handled by the
 * store's conditional writes in src/publish; this only takes the in-process contention away.
 */
export class WriteQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(repo: string, job: () => Promise<T>): Promise<T> {
    const before = this.tails.get(repo) ?? Promise.resolve();
    const result = before.then(job, job);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(repo, tail);
    // Drop the entry once the last queued job is done, so idle repositories hold nothing.
    void tail.then(() => {
      if (this.tails.get(repo) === tail) this.tails.delete(repo);
    });
    return result;
  }
}
