// `pkgpub serve --workers n`: the primary process forks n workers with node:cluster, each a full
// server on the shared port. The primary serves no request itself: it passes the workers' log
// lines on whole (one JSON stream), adds up their metrics for every /metrics scrape, replaces a
// worker that dies, and on SIGTERM/SIGINT has every worker finish its requests in flight.
import cluster, { type Worker } from "node:cluster";
import { HttpError } from "./http-error.js";
import { Metrics, type MetricsSnapshot } from "./metrics.js";

/** Messages between the primary and its workers (tagged so that nothing else is mistaken for them). */
type ToPrimary =
  | { pkgpub: "ready"; url: string; description: string }
  | { pkgpub: "metrics?"; id: number }
  | { pkgpub: "snapshot"; id: number; snapshot: MetricsSnapshot };
type ToWorker = { pkgpub: "stop" } | { pkgpub: "snapshot?"; id: number } | { pkgpub: "metrics"; id: number; text: string };

/** How long a scrape waits for every worker's counters before answering with those it has. */
const GATHER_MS = 2_000;
/** A worker that dies younger than this is replaced after a pause, so a crash loop does not spin. */
const YOUNG_MS = 2_000;

export interface PrimaryOptions {
  workers: number;
  /** The arguments a worker runs with (the same `serve ...` command line). */
  args: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Called once every first worker listens. */
  onReady(url: string, description: string): void;
  /** Aborted when the process is asked to stop; absent, SIGTERM/SIGINT stop it. */
  stopSignal?: AbortSignal;
  /** How long workers may take to finish their requests before they are killed. */
  shutdownGraceMs?: number;
}

/** Runs the primary until it is stopped; resolves to the exit code (1 if the workers could not start). */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  cluster.setupPrimary({ exec: process.argv[1], args: options.args, silent: true });
  const line = (level: number, msg: string, fields: Record<string, unknown>) =>
    options.stdout.write(`${JSON.stringify({ level, time: Date.now(), ...fields, msg })}\n`);
  const started = new Map<number, number>();
  const last = new Map<number, MetricsSnapshot>();
  // Counters of workers that are gone, as they last reported them: a scrape's totals do not fall
  // back when a worker is replaced (what it counted after its last report is lost with it).
  const retired: MetricsSnapshot[] = [];
  let stopping = false;
  let ready = false;
  let readyCount = 0;
  let gatherId = 0;
  const gathers = new Map<number, { waiting: Set<number>; got: MetricsSnapshot[]; finish: () => void }>();

  const outputs: Promise<void>[] = [];
  return new Promise<number>((resolveExit) => {
    let exitCode = 0;
    const fork = () => {
      const worker = cluster.fork();
      started.set(worker.id, Date.now());
      // A worker's last lines may still be in its pipes when it exits: the primary ends after them.
      outputs.push(forwardLines(worker.process.stdout, options.stdout), forwardLines(worker.process.stderr, options.stderr));
      worker.on("message", (m: ToPrimary) => onMessage(worker, m));
      worker.once("online", () => line(30, "worker started", { worker: worker.id, pid: worker.process.pid }));
      return worker;
    };

    const onMessage = (worker: Worker, m: ToPrimary) => {
      if (typeof m !== "object" || m === null) return;
      if (m.pkgpub === "ready") {
        readyCount++;
        if (!ready && readyCount >= options.workers) {
          ready = true;
          options.onReady(m.url, m.description);
        }
      } else if (m.pkgpub === "metrics?") {
        gather((text) => send(worker, { pkgpub: "metrics", id: m.id, text }));
      } else if (m.pkgpub === "snapshot") {
        last.set(worker.id, m.snapshot);
        const g = gathers.get(m.id);
        if (g && g.waiting.delete(worker.id)) {
          g.got.push(m.snapshot);
          if (g.waiting.size === 0) g.finish();
        }
      }
    };

    const gather = (reply: (text: string) => void) => {
      const id = ++gatherId;
      const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
      const g = { waiting: new Set(live.map((w) => w.id)), got: [] as MetricsSnapshot[], finish: () => undefined as void };
      const timer = setTimeout(() => g.finish(), GATHER_MS);
      g.finish = () => {
        clearTimeout(timer);
        gathers.delete(id);
        // A worker that did not answer in time is counted as it last reported.
        const late = [...g.waiting].map((w) => last.get(w)).filter((s): s is MetricsSnapshot => s !== undefined);
        const text = Metrics.sum([...retired, ...g.got, ...late]).render();
        reply(
          `${text}# HELP pkgpub_workers Server processes answering requests.\n# TYPE pkgpub_workers gauge\npkgpub_workers ${live.length}\n`,
        );
      };
      gathers.set(id, g);
      for (const w of live) send(w, { pkgpub: "snapshot?", id });
      if (live.length === 0) g.finish();
    };

    cluster.on("exit", (worker, code, signal) => {
      const snapshot = last.get(worker.id);
      if (snapshot) retired.push({ ...snapshot, inFlight: 0 });
      last.delete(worker.id);
      for (const g of gathers.values()) if (g.waiting.delete(worker.id) && g.waiting.size === 0) g.finish();
      const age = Date.now() - (started.get(worker.id) ?? 0);
      started.delete(worker.id);
      if (stopping) {
        if (code !== 0) {
          exitCode = 1;
          line(50, "worker exited", { worker: worker.id, pid: worker.process.pid, code, signal });
        }
        if (Object.keys(cluster.workers ?? {}).length === 0) finish();
        return;
      }
      line(50, "worker exited", { worker: worker.id, pid: worker.process.pid, code, signal });
      if (!ready) {
        // A worker that cannot start (port taken, store unreadable) would fail again: give up.
        exitCode = 1;
        stop();
        return;
      }
      setTimeout(() => {
        if (!stopping) fork();
      }, age < YOUNG_MS ? 1_000 : 0).unref();
    });

    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      if (workers.length === 0) return finish();
      for (const w of workers) send(w, { pkgpub: "stop" });
      killTimer = setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGKILL");
      }, (options.shutdownGraceMs ?? 10_000) + 5_000);
      killTimer.unref();
    };
    const finish = () => {
      if (killTimer) clearTimeout(killTimer);
      cluster.removeAllListeners("exit");
      void Promise.all(outputs).then(() => resolveExit(exitCode));
    };

    if (options.stopSignal) {
      if (options.stopSignal.aborted) queueMicrotask(stop);
      else options.stopSignal.addEventListener("abort", stop, { once: true });
    } else {
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    }
    for (let i = 0; i < options.workers; i++) fork();
  });
}

function send(worker: Worker, m: ToWorker): void {
  if (worker.isConnected()) worker.send(m, (err: Error | null) => void err);
}

/**
 * Copies a worker's output on, only ever in whole lines: two workers' lines never interleave
 * mid-line, whatever sizes their writes have.
 */
function forwardLines(from: NodeJS.ReadableStream | null | undefined, to: NodeJS.WritableStream): Promise<void> {
  if (!from) return Promise.resolve();
  let carry: Buffer | null = null;
  from.on("data", (chunk: Buffer) => {
    const end = chunk.lastIndexOf(10);
    if (end === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : chunk;
      return;
    }
    const whole = chunk.subarray(0, end + 1);
    to.write(carry ? Buffer.concat([carry, whole]) : whole);
    carry = end + 1 < chunk.length ? Buffer.from(chunk.subarray(end + 1)) : null;
  });
  return new Promise<void>((resolve) => {
    from.on("end", () => {
      if (carry) to.write(Buffer.concat([carry, Buffer.from("\n")]));
      carry = null;
      resolve();
    });
    from.on("error", () => resolve());
  });
}

/** The worker's side: true when this process is a cluster worker. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/**
 * Hooks a worker up to its primary: answers snapshot requests from these metrics, renders
 * /metrics as the sum over all workers, and tells when the primary asks it to stop. Signals
 * are left to the primary (a worker ignores SIGTERM/SIGINT sent to the whole group, so that a
 * stop always goes through the primary, which then replaces no one).
 */
export function workerHooks(metrics: Metrics): {
  renderMetrics: () => Promise<string>;
  stopped: AbortSignal;
  ready(url: string, description: string): void;
  /** Closes the channel to the primary, so the process can exit. */
  leave(): void;
} {
  const stop = new AbortController();
  const pending = new Map<number, (text: string) => void>();
  let nextId = 0;
  const ignore = () => undefined;
  process.on("SIGTERM", ignore);
  process.on("SIGINT", ignore);
  const toPrimary = (m: ToPrimary) => {
    if (process.connected) process.send!(m, undefined, undefined, (err: Error | null) => void err);
  };
  process.on("message", (m: ToWorker) => {
    if (typeof m !== "object" || m === null) return;
    if (m.pkgpub === "stop") stop.abort();
    else if (m.pkgpub === "snapshot?") toPrimary({ pkgpub: "snapshot", id: m.id, snapshot: metrics.snapshot() });
    else if (m.pkgpub === "metrics") {
      pending.get(m.id)?.(m.text);
      pending.delete(m.id);
    }
  });
  return {
    stopped: stop.signal,
    renderMetrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = ++nextId;
        // One worker's counters alone would read as the server's: no answer is better.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new HttpError(503, "metrics unavailable: the primary process did not answer"));
        }, GATHER_MS + 1_000);
        pending.set(id, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        toPrimary({ pkgpub: "metrics?", id });
      }),
    ready: (url, description) => toPrimary({ pkgpub: "ready", url, description }),
    leave: () => {
      process.off("SIGTERM", ignore);
      process.off("SIGINT", ignore);
      // Through the cluster worker, which marks the leave as deliberate: a plain disconnect
      // makes Node exit the worker at once, dropping log lines still being written.
      if (process.connected) cluster.worker?.disconnect();
    },
  };
}
