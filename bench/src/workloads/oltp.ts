/**
 * OLTP workloads on `kv(id INTEGER PRIMARY KEY, k VARCHAR, v DOUBLE, grp INTEGER)`, each engine on
 * a file-backed database in a temp directory (durable commits; SQLite WAL + synchronous=FULL),
 * except AlaSQL, which keeps no files and runs in memory (its durable and transactional
 * workloads are `n/a`).
 *
 * Each engine runs in a worker thread of its own (oltp-host.ts, oltp-worker.ts; in this thread
 * when the built worker file is not there, e.g. under vitest): it generates and loads its own kv
 * and runs each run's timed loop there (oltp-ops.ts), so its figures come from a heap that holds
 * only its own data, and message passing is not timed. This thread orchestrates: it interleaves
 * the runs across engines (one request per engine run), compares answers and reports.
 *
 * Reads run before writes, so they see exactly the loaded rows and are checked: a point lookup
 * must return its row's `k`, a range scan exactly 100 rows, the scans the reference engine's
 * count and sum. Write workloads use fresh ids above every id used before, per engine.
 * Concurrency: N sessions (N = 1, 4, 16) run short transfer transactions (two updates by key,
 * smaller id first) from a shared counter; serialization failures, deadlocks and busy errors are
 * retried and counted. Group commit: 16 sessions run durable single-row INSERTs (autocommit) at
 * once; the commits/s is set next to SQLite's single-connection rate (issue 4). The sessions
 * are opened, used and closed inside the engine's worker.
 * Every engine checkpoints before each write workload, outside the timing (`checkpointAll`).
 * A worker that crashes or errors fails that engine's request like any engine error.
 */
import { join } from 'node:path';
import { errorMessage, type EngineName, type Row } from '../engines/adapter.js';
import { compareAnswers } from '../harness/answers.js';
import type { BenchContext, BenchOptions } from '../harness/context.js';
import { classifyFailure, failed, interleave, toMeasurement, type RunOutcome } from '../harness/measure.js';
import type { Measurement } from '../harness/results.js';
import { createOltpHost, type OltpHost } from './oltp-host.js';
import { CONCURRENT_INSERT_CONNECTIONS, concurrentInsertTotal, OLTP_OPTION_KEYS, RANGE, type WalActivity } from './oltp-ops.js';

interface Live {
  readonly name: EngineName;
  readonly host: OltpHost;
}

/**
 * How long one request may take in an engine's worker before the worker is stopped and the
 * request fails as a timeout: far above any run (runs stop near the budget), so it only turns
 * a stuck engine into a failure instead of a hang.
 */
const WATCHDOG_MIN_MS = 600_000;

/**
 * Every live engine checkpoints, outside any timing, before a write workload (see
 * EngineAdapter.checkpoint): each one starts from a settled log, and no engine's background
 * checkpoint of earlier workloads' rows runs inside the next one's runs (or another engine's:
 * their workers share the machine's cores). A failure is logged and the workload runs anyway.
 */
async function checkpointAll(ctx: BenchContext, live: readonly Live[]): Promise<void> {
  for (const e of live) {
    try {
      await e.host.call('checkpoint');
    } catch (err) {
      ctx.log(`oltp: ${e.name} checkpoint failed: ${errorMessage(err)}`);
    }
  }
}

export async function runOltp(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const n = opts.kvRows;
  const live: Live[] = [];
  const dead = new Map<EngineName, unknown>();
  const loadName = `load kv ${n.toLocaleString('en-US')} rows (file)`;
  const watchdogMs = Math.max(WATCHDOG_MIN_MS, 10 * opts.budgetMs);
  for (const name of opts.engines) {
    const options = Object.fromEntries(OLTP_OPTION_KEYS.map((k) => [k, opts[k]])) as Pick<BenchOptions, (typeof OLTP_OPTION_KEYS)[number]>;
    const host = createOltpHost({ ...options, engine: name, dir: join(opts.tmpDir, 'oltp', name) }, { isolate: opts.isolate, watchdogMs });
    try {
      const { loadMs: ms, durable, rssMb, deltaMb } = await host.call('load');
      ctx.add(toMeasurement({ group: 'load', workload: loadName, engine: name }, { samples: [ms] }, {
        ops: n, throughputUnit: 'rows/s', ...(durable ? {} : { note: 'in memory' }),
      }));
      ctx.report.memory.push({ phase: `kv ${n} loaded`, engine: name, rssMb, deltaMb });
      live.push({ name, host });
      ctx.log(`oltp: ${name} loaded kv in ${Math.round(ms)} ms`);
    } catch (err) {
      dead.set(name, err);
      ctx.add(failed({ group: 'load', workload: loadName, engine: name }, err));
      ctx.log(`oltp: ${name} load failed: ${classifyFailure(name, err).message}`);
      await host.close();
    }
  }

  try {
    await runWorkloads(ctx, live, dead);
  } finally {
    for (const e of live) await e.host.close();
  }
}

/** QuiverDB's WAL activity so far (`pg_stat_wal`), untimed. */
async function walActivityOf(live: readonly Live[]): Promise<Map<EngineName, WalActivity>> {
  const out = new Map<EngineName, WalActivity>();
  for (const e of live) {
    if (e.name !== 'quiverdb') continue;
    const a = await e.host.call('walActivity').catch(() => undefined);
    if (a !== undefined) out.set(e.name, a);
  }
  return out;
}

/**
 * Note on QuiverDB's outcome of a commit workload what its WAL did over all its runs (warm-up
 * included): the fsyncs, the mean time of one, and of one write: how much of a commit is the disk.
 */
async function noteWalActivity(live: readonly Live[], before: ReadonlyMap<EngineName, WalActivity>, outcomes: Map<EngineName, RunOutcome>): Promise<void> {
  const after = await walActivityOf(live);
  for (const [name, a] of after) {
    const b = before.get(name);
    const o = outcomes.get(name);
    if (b === undefined || o === undefined || o.failure) continue;
    const syncs = a.syncs - b.syncs, writes = a.writes - b.writes;
    if (syncs <= 0 || writes <= 0) continue;
    const us = (ms: number, n: number): string => ((ms / n) * 1000).toFixed(0);
    const note = `WAL (pg_stat_wal, all runs): ${syncs.toLocaleString('en-US')} fsyncs of ${us(a.syncMs - b.syncMs, syncs)} µs on average, ` +
      `${writes.toLocaleString('en-US')} writes of ${us(a.writeMs - b.writeMs, writes)} µs`;
    o.note = o.note ? `${o.note}; ${note}` : note;
  }
}

async function runWorkloads(ctx: BenchContext, live: readonly Live[], dead: ReadonlyMap<EngineName, unknown>): Promise<void> {
  const { opts } = ctx;
  const n = opts.kvRows;
  const iopts = { warmup: opts.warmup, runs: opts.runs, budgetMs: opts.budgetMs };
  const report = (group: string, workload: string, outcomes: Map<EngineName, RunOutcome>, extra: Parameters<typeof toMeasurement>[2] = {}): void => {
    for (const [name, err] of dead) ctx.add(failed({ group, workload, engine: name }, err, extra.unit));
    for (const e of live) ctx.add(toMeasurement({ group, workload, engine: e.name }, outcomes.get(e.name)!, extra));
    ctx.log(`${group} ${workload}: ${live.map((e) => `${e.name} ${summary(outcomes.get(e.name)!, extra.scale ?? 1)}`).join(', ')} ${extra.unit ?? 'ms'}`);
    function summary(o: RunOutcome, scale: number): string {
      if (o.failure) return `${o.failure.status}`;
      const s = [...o.samples].sort((a, b) => a - b);
      return `${s[Math.floor(s.length / 2)]! * scale > 0 ? (s[Math.floor(s.length / 2)]! * scale).toFixed(1) : '-'}`;
    }
  };
  if (ctx.opts.groups.has('oltp')) {
    // Point lookup by primary key, one query per call, prepared where the engine allows.
    const point = await interleave(live, iopts, (e, it) => e.host.call('pointLookups', it));
    report('oltp', 'point lookup by key', point, { unit: 'us/op', scale: 1000 / opts.pointLookups, ops: opts.pointLookups, throughputUnit: 'q/s' });

    // 100-row range scan on the key.
    const range = await interleave(live, iopts, (e, it) => e.host.call('rangeScans', it));
    report('oltp', `range scan ${RANGE} rows`, range, { unit: 'us/op', scale: 1000 / opts.rangeScans, ops: opts.rangeScans, throughputUnit: 'q/s' });

    // Full scan and a selective scan, answers checked against the reference engine.
    for (const [workload, sql] of [
      ['full scan: count, sum(v)', 'SELECT count(*), sum(v) FROM kv'],
      ['selective scan: grp = 42', 'SELECT count(*), sum(v) FROM kv WHERE grp = 42'],
      ['selective scan: id range 1%', `SELECT count(*), sum(v) FROM kv WHERE id BETWEEN ${Math.floor(n / 2)} AND ${Math.floor(n / 2) + Math.floor(n / 100) - 1}`],
      // too wide for an index scan: a full scan whose zone maps skip the row groups below the bound
      ['selective scan: top 10% of ids', `SELECT count(*), sum(v) FROM kv WHERE id > ${n - Math.floor(n / 10)}`],
    ] as const) {
      const answers = new Map<EngineName, Row[]>();
      const outcome = await interleave(live, iopts, async (e, it) => {
        const { ms, rows } = await e.host.call('scan', sql);
        if (it === 0) answers.set(e.name, rows);
        return ms;
      });
      const refName = (['duckdb', 'sqlite', 'pglite', 'quiverdb', 'alasql'] as const).find((x) => answers.has(x));
      for (const e of live) {
        const got = answers.get(e.name);
        const o = outcome.get(e.name)!;
        if (got && refName && e.name !== refName) {
          const diff = compareAnswers(answers.get(refName)!, got);
          if (diff) o.failure = { status: 'error', message: `answer differs from ${refName}: ${diff}` };
        }
      }
      // QuiverDB: row groups its zone maps skipped in one more (untimed) run, from quiver_tables' counters
      for (const e of live) {
        const o = outcome.get(e.name)!;
        if (e.name !== 'quiverdb' || o.failure) continue;
        try {
          const skipped = await e.host.call('rowGroupsSkipped', sql);
          if (skipped) o.note = o.note ? `${o.note}; ${skipped}` : skipped;
        } catch { /* the engine's worker is gone: its next workload reports why */ }
      }
      report('oltp', workload, outcome, { ops: n, throughputUnit: 'rows/s' });
    }

    // Cold full scan: close and reopen the database (untimed), then time the first scan. The
    // OS page cache stays warm: this measures the engine's own cold start (metadata, decoding,
    // its buffer pool), not the disk.
    const cold = await interleave(live, iopts, (e) => e.host.call('coldScan', 'SELECT count(*), sum(v) FROM kv'));
    report('oltp', 'full scan, cold (after reopen)', cold, { ops: n, throughputUnit: 'rows/s' });
  }

  if (ctx.opts.groups.has('oltp')) {
    // Single-row insert transactions with durability on.
    await checkpointAll(ctx, live);
    const walBefore = await walActivityOf(live);
    const ins = await interleave(live, iopts, (e) => e.host.call('durableInserts'));
    await noteWalActivity(live, walBefore, ins);
    report('oltp', 'durable single-row insert (autocommit)', ins, {
      unit: 'us/op', scale: 1000 / opts.durableInserts, ops: opts.durableInserts, throughputUnit: 'commits/s',
    });

    // Bulk insert: multi-row INSERT statements of 1000 rows in one transaction.
    await checkpointAll(ctx, live);
    const bulk = await interleave(live, iopts, (e) => e.host.call('bulkInsert'));
    report('oltp', `bulk insert ${opts.bulkRows.toLocaleString('en-US')} rows (1 txn)`, bulk, { ops: opts.bulkRows, throughputUnit: 'rows/s' });

    // Updates by key in one transaction.
    await checkpointAll(ctx, live);
    const upd = await interleave(live, iopts, (e, it) => e.host.call('updatesByKey', it));
    report('oltp', `${opts.updates.toLocaleString('en-US')} updates by key (1 txn)`, upd, { ops: opts.updates, throughputUnit: 'updates/s' });
  }

  if (ctx.opts.groups.has('concurrency')) {
    // Durable single-row INSERTs (autocommit) from 16 connections at once: issue 4's group-commit
    // target (at least 3x SQLite's single-connection commit rate) reads this row.
    const conc = CONCURRENT_INSERT_CONNECTIONS;
    const total = concurrentInsertTotal(opts.durableInserts);
    const insSetup = new Map<EngineName, unknown>();
    for (const e of live) {
      try {
        await e.host.call('openSessions', conc, 'insert');
      } catch (err) {
        insSetup.set(e.name, err);
      }
    }
    await checkpointAll(ctx, live);
    const concWalBefore = await walActivityOf(live);
    const concIns = await interleave(live, iopts, async (e) => {
      const err = insSetup.get(e.name);
      if (err !== undefined) throw err;
      return e.host.call('concurrentInserts');
    });
    await noteWalActivity(live, concWalBefore, concIns);
    const concName = `durable single-row INSERT (autocommit), ${conc} connections`;
    for (const [name, err] of dead) ctx.add(failed({ group: 'concurrency', workload: concName, engine: name }, err));
    for (const e of live) {
      ctx.add(toMeasurement({ group: 'concurrency', workload: concName, engine: e.name }, concIns.get(e.name)!, {
        unit: 'us/op', scale: 1000 / total, ops: total, throughputUnit: 'commits/s',
        ...(e.name === 'sqlite' ? { note: 'synchronous driver: connections take turns' } : {}),
      }));
    }
    ctx.log(`concurrency ${concName}: ${live.map((e) => {
      const o = concIns.get(e.name)!;
      if (o.failure) return `${e.name} ${o.failure.status}`;
      const s = [...o.samples].sort((x, y) => x - y);
      const med = s[Math.floor(s.length / 2)];
      return `${e.name} ${med === undefined ? '-' : ((total / med) * 1000).toPrecision(3)} commits/s`;
    }).join(', ')}`);
    for (const e of live) if (!insSetup.has(e.name)) await e.host.call('closeSessions').catch(() => {});

    for (const c of opts.connections) {
      const setupFailures = new Map<EngineName, unknown>();
      for (const e of live) {
        try {
          await e.host.call('openSessions', c, 'txn');
        } catch (err) {
          setupFailures.set(e.name, err);
        }
      }
      const retries = new Map<EngineName, number>();
      await checkpointAll(ctx, live);
      const outcome = await interleave(live, iopts, async (e, it) => {
        const err = setupFailures.get(e.name);
        if (err !== undefined) throw err;
        const { ms, retried } = await e.host.call('transferTxns', c, it);
        retries.set(e.name, (retries.get(e.name) ?? 0) + retried);
        return ms;
      });
      const workload = `short read-write txns, ${c} connection${c === 1 ? '' : 's'}`;
      for (const [name, err] of dead) ctx.add(failed({ group: 'concurrency', workload, engine: name }, err));
      for (const e of live) {
        const o = outcome.get(e.name)!;
        const r = retries.get(e.name) ?? 0;
        const m: Measurement = toMeasurement({ group: 'concurrency', workload, engine: e.name }, o, {
          unit: 'us/op', scale: 1000 / opts.txnsPerRun, ops: opts.txnsPerRun, throughputUnit: 'tx/s',
          ...(r > 0 ? { note: `${r} retries` } : {}),
          ...(e.name === 'sqlite' && c > 1 ? { note: 'synchronous driver: connections take turns' } : {}),
        });
        ctx.add(m);
      }
      ctx.log(`concurrency ${c}: ${live.map((e) => {
        const o = outcome.get(e.name)!;
        if (o.failure) return `${e.name} ${o.failure.status}`;
        const s = [...o.samples].sort((x, y) => x - y);
        const med = s[Math.floor(s.length / 2)];
        return `${e.name} ${med === undefined ? '-' : ((opts.txnsPerRun / med) * 1000).toPrecision(3)} tx/s`;
      }).join(', ')}`);
      for (const e of live) if (!setupFailures.has(e.name)) await e.host.call('closeSessions').catch(() => {});
    }
  }
}
