/**
 * Prometheus text exposition for the few numbers an operator watches: requests by route and
 * status, bytes sent, cache hits and misses, upstream latency. Labels are bounded (route names
 * and status codes, never paths), so the series count stays small.
 */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly bytes = new Map<string, number>();
  private readonly cache = new Map<string, number>();
  private readonly upstreamCount = new Map<string, number>();
  private readonly upstreamSum = new Map<string, number>();
  private readonly upstreamBuckets = new Map<string, number[]>();
  private readonly upstreamErrors = new Map<string, number>();
  static readonly BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  inFlight = 0;

  private readonly labelMemo = new Map<string, string>();
  private readonly routeMemo = new Map<string, string>();

  request(route: string, method: string, status: number): void {
    // Built once per (route, method, status): this runs on every request.
    const memo = `${route}\u0000${method}\u0000${status}`;
    let key = this.labelMemo.get(memo);
    if (key === undefined) {
      key = labels({ route, method, status: String(status) });
      if (this.labelMemo.size < 10_000) this.labelMemo.set(memo, key);
    }
    inc(this.requests, key);
  }

  bytesSent(route: string, n: number): void {
    let key = this.routeMemo.get(route);
    if (key === undefined) {
      key = labels({ route });
      if (this.routeMemo.size < 10_000) this.routeMemo.set(route, key);
    }
    inc(this.bytes, key, n);
  }

  cacheResult(upstream: string, result: "hit" | "miss" | "stale" | "rejected"): void {
    inc(this.cache, labels({ upstream, result }));
  }

  upstreamLatency(upstream: string, seconds: number): void {
    const key = labels({ upstream });
    inc(this.upstreamCount, key);
    inc(this.upstreamSum, key, seconds);
    let b = this.upstreamBuckets.get(key);
    if (!b) this.upstreamBuckets.set(key, (b = Metrics.BUCKETS.map(() => 0)));
    Metrics.BUCKETS.forEach((le, i) => {
      if (seconds <= le) b![i]!++;
    });
  }

  upstreamError(upstream: string, reason: string): void {
    inc(this.upstreamErrors, labels({ upstream, reason }));
  }

  /** The counters as plain data, for the cluster primary to add up (see cluster.ts). */
  snapshot(): MetricsSnapshot {
    return {
      requests: [...this.requests],
      bytes: [...this.bytes],
      cache: [...this.cache],
      upstreamCount: [...this.upstreamCount],
      upstreamSum: [...this.upstreamSum],
      upstreamBuckets: [...this.upstreamBuckets].map(([k, b]) => [k, [...b]]),
      upstreamErrors: [...this.upstreamErrors],
      inFlight: this.inFlight,
    };
  }

  /** The sum of several workers' snapshots, to render as one exposition. */
  static sum(snapshots: MetricsSnapshot[]): Metrics {
    const m = new Metrics();
    for (const s of snapshots) {
      for (const [k, v] of s.requests) inc(m.requests, k, v);
      for (const [k, v] of s.bytes) inc(m.bytes, k, v);
      for (const [k, v] of s.cache) inc(m.cache, k, v);
      for (const [k, v] of s.upstreamCount) inc(m.upstreamCount, k, v);
      for (const [k, v] of s.upstreamSum) inc(m.upstreamSum, k, v);
      for (const [k, v] of s.upstreamErrors) inc(m.upstreamErrors, k, v);
      for (const [k, b] of s.upstreamBuckets) {
        const into = m.upstreamBuckets.get(k) ?? Metrics.BUCKETS.map(() => 0);
        b.forEach((n, i) => (into[i] = (into[i] ?? 0) + n));
        m.upstreamBuckets.set(k, into);
      }
      m.inFlight += s.inFlight;
    }
    return m;
  }

  render(): string {
    const out: string[] = [];
    family(out, "pkgpub_http_requests_total", "counter", "HTTP requests answered, by route, method and status.", this.requests);
    family(out, "pkgpub_http_response_bytes_total", "counter", "Body bytes sent, by route.", this.bytes);
    family(out, "pkgpub_cache_requests_total", "counter", "Upstream cache lookups, by upstream and result.", this.cache);
    family(out, "pkgpub_upstream_errors_total", "counter", "Failed upstream requests, by upstream and reason.", this.upstreamErrors);
    out.push("# HELP pkgpub_upstream_request_duration_seconds Time to upstream response headers.");
    out.push("# TYPE pkgpub_upstream_request_duration_seconds histogram");
    for (const [key, counts] of this.upstreamBuckets) {
      Metrics.BUCKETS.forEach((le, i) => out.push(`pkgpub_upstream_request_duration_seconds_bucket{${key},le="${le}"} ${counts[i]}`));
      out.push(`pkgpub_upstream_request_duration_seconds_bucket{${key},le="+Inf"} ${this.upstreamCount.get(key) ?? 0}`);
      out.push(`pkgpub_upstream_request_duration_seconds_sum{${key}} ${this.upstreamSum.get(key) ?? 0}`);
      out.push(`pkgpub_upstream_request_duration_seconds_count{${key}} ${this.upstreamCount.get(key) ?? 0}`);
    }
    out.push("# HELP pkgpub_http_requests_in_flight Requests being answered now.");
    out.push("# TYPE pkgpub_http_requests_in_flight gauge");
    out.push(`pkgpub_http_requests_in_flight ${this.inFlight}`);
    return out.join("\n") + "\n";
  }
}

export interface MetricsSnapshot {
  requests: Array<[string, number]>;
  bytes: Array<[string, number]>;
  cache: Array<[string, number]>;
  upstreamCount: Array<[string, number]>;
  upstreamSum: Array<[string, number]>;
  upstreamBuckets: Array<[string, number[]]>;
  upstreamErrors: Array<[string, number]>;
  inFlight: number;
}

function inc(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}

function family(out: string[], name: string, type: string, help: string, map: Map<string, number>): void {
  out.push(`# HELP ${name} ${help}`);
  out.push(`# TYPE ${name} ${type}`);
  for (const [key, value] of [...map].sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`${name}{${key}} ${value}`);
}
