/**
 * Server metrics in the Prometheus text exposition format (version 0.0.4).
 *
 *   quiver_queries_total{protocol}                 counter: statements run
 *   quiver_query_errors_total{protocol,code}       counter: failed statements by SQLSTATE
 *   quiver_query_duration_seconds{protocol}        histogram of statement latency
 *   quiver_open_connections{protocol}              gauge: engine connections the server holds
 *   quiver_engine_*                                whatever `db.metrics()` returns, flattened
 *
 * Invariants:
 *  1. Histogram buckets are cumulative and the +Inf bucket equals _count.
 *  2. Label values are escaped (backslash, double quote, newline).
 */

import type { ServerLogger } from './contract.js';

export type Protocol = 'http' | 'pg';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class ServerMetrics {
  private readonly queries = new Map<Protocol, number>();
  private readonly errors = new Map<string, number>();
  private readonly durations = new Map<Protocol, Histogram>();
  private readonly open = new Map<Protocol, number>([['http', 0], ['pg', 0]]);

  observeQuery(protocol: Protocol, seconds: number, errorCode?: string): void {
    this.queries.set(protocol, (this.queries.get(protocol) ?? 0) + 1);
    if (errorCode !== undefined) {
      const key = `${protocol}\u0000${errorCode}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    }
    let h = this.durations.get(protocol);
    if (h === undefined) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(protocol, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  connectionOpened(protocol: Protocol): void {
    this.open.set(protocol, (this.open.get(protocol) ?? 0) + 1);
  }

  connectionClosed(protocol: Protocol): void {
    this.open.set(protocol, (this.open.get(protocol) ?? 0) - 1);
  }

  openConnections(protocol: Protocol): number {
    return this.open.get(protocol) ?? 0;
  }

  render(engineMetrics?: unknown): string {
    const out: string[] = [];
    out.push('# HELP quiver_queries_total Statements run by the server.', '# TYPE quiver_queries_total counter');
    for (const [p, n] of this.queries) out.push(`quiver_queries_total{protocol="${p}"} ${n}`);
    out.push('# HELP quiver_query_errors_total Failed statements by SQLSTATE.', '# TYPE quiver_query_errors_total counter');
    for (const [key, n] of this.errors) {
      const [p, code] = key.split('\u0000') as [string, string];
      out.push(`quiver_query_errors_total{protocol="${p}",code="${esc(code)}"} ${n}`);
    }
    out.push('# HELP quiver_query_duration_seconds Statement latency.', '# TYPE quiver_query_duration_seconds histogram');
    for (const [p, h] of this.durations) {
      BUCKETS.forEach((b, i) => out.push(`quiver_query_duration_seconds_bucket{protocol="${p}",le="${b}"} ${h.counts[i]}`));
      out.push(`quiver_query_duration_seconds_bucket{protocol="${p}",le="+Inf"} ${h.count}`);
      out.push(`quiver_query_duration_seconds_sum{protocol="${p}"} ${h.sum}`);
      out.push(`quiver_query_duration_seconds_count{protocol="${p}"} ${h.count}`);
    }
    out.push('# HELP quiver_open_connections Engine connections held by the server.', '# TYPE quiver_open_connections gauge');
    for (const [p, n] of this.open) out.push(`quiver_open_connections{protocol="${p}"} ${n}`);
    out.push(...renderEngineMetrics(engineMetrics));
    return `${out.join('\n')}\n`;
  }
}

const metricName = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();

/** Flatten `db.metrics()` into gauges named quiver_engine_<path>; a string is taken as ready Prometheus text. */
export function renderEngineMetrics(m: unknown): string[] {
  if (m === undefined || m === null) return [];
  if (typeof m === 'string') return m.split('\n').filter((l) => l.length > 0);
  const out: string[] = [];
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (depth > 6) return;
    if (typeof v === 'number' && Number.isFinite(v)) out.push(`${prefix} ${v}`);
    else if (typeof v === 'bigint') out.push(`${prefix} ${v.toString()}`);
    else if (typeof v === 'boolean') out.push(`${prefix} ${v ? 1 : 0}`);
    else if (v instanceof Map) for (const [k, x] of v) walk(`${prefix}_${metricName(String(k))}`, x, depth + 1);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(`${prefix}_${metricName(k)}`, x, depth + 1);
    }
  };
  walk('quiver_engine', m, 0);
  return out;
}

/**
 * Counts a finished statement in `metrics` and logs it as a slow query when it took at least
 * `slowQueryMs` (undefined = never).
 */
export function recordQuery(
  ctx: { readonly metrics: ServerMetrics; readonly logger: ServerLogger; readonly slowQueryMs?: number | undefined },
  protocol: Protocol,
  sql: string,
  seconds: number,
  errorCode?: string,
): void {
  ctx.metrics.observeQuery(protocol, seconds, errorCode);
  if (ctx.slowQueryMs !== undefined && seconds * 1000 >= ctx.slowQueryMs) {
    ctx.logger.warn('slow query', { protocol, ms: Math.round(seconds * 1000), sql: sql.length > 500 ? `${sql.slice(0, 500)}…` : sql, ...(errorCode !== undefined ? { code: errorCode } : {}) });
  }
}
