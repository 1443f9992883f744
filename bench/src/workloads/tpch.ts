/**
 * TPC-H: every engine loads the same generated data (timed), then each query: one answer pass
 * (also the first warm-up) whose results are compared with the reference engine (DuckDB, or the
 * first engine that answered), then timed runs interleaved across engines. Each engine runs in a
 * host (tpch-host.ts): a worker thread in the built CLI, so that a query past the time limit is
 * stopped and reported `timeout`.
 */
import type { EngineName, Row } from '../engines/adapter.js';
import { answerDigest, compareAnswers } from '../harness/answers.js';
import type { BenchContext } from '../harness/context.js';
import { classifyFailure, failed, interleave, now, toMeasurement } from '../harness/measure.js';
import { generateTpch, type TpchData } from '../tpch/generate.js';
import { TPCH_QUERIES, querySqlFor } from '../tpch/queries.js';
import { checksumTable } from '../table-data.js';
import { rssMb } from './memory.js';
import { createTpchHost, type TpchHost } from './tpch-host.js';

const REFERENCE_ORDER: readonly EngineName[] = ['duckdb', 'sqlite', 'pglite', 'quiverdb', 'alasql'];

export async function runTpch(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const t0 = now();
  const data: TpchData = generateTpch(opts.sf, opts.seed);
  const tables = Object.values(data);
  const totalRows = tables.reduce((n, t) => n + t.rowCount, 0);
  for (const t of tables) ctx.report.checksums[`sf${opts.sf}:${t.def.name}`] = checksumTable(t);
  ctx.log(`tpch: generated SF ${opts.sf} (${totalRows.toLocaleString('en-US')} rows) in ${Math.round(now() - t0)} ms`);

  const live: TpchHost[] = [];
  const dead = new Map<EngineName, unknown>();
  const group = 'tpch';
  const loadName = `load TPC-H SF ${opts.sf} (8 tables, in memory)`;
  for (const name of opts.engines) {
    const host = createTpchHost(name, { sf: opts.sf, seed: opts.seed, isolate: opts.isolate }, () => data);
    const before = rssMb();
    try {
      const { loadMs } = await host.start();
      ctx.add(toMeasurement({ group: 'load', workload: loadName, engine: name }, { samples: [loadMs] }, { ops: totalRows, throughputUnit: 'rows/s' }));
      live.push(host);
      const after = rssMb();
      ctx.report.memory.push({ phase: `TPC-H SF ${opts.sf} loaded`, engine: name, rssMb: after, deltaMb: after - before });
      ctx.log(`tpch: ${name} loaded in ${Math.round(loadMs)} ms`);
    } catch (err) {
      dead.set(name, err);
      ctx.add(failed({ group: 'load', workload: loadName, engine: name }, err));
      ctx.log(`tpch: ${name} load failed: ${classifyFailure(name, err).message}`);
      await host.close().catch(() => {});
    }
  }

  for (const q of TPCH_QUERIES) {
    const workload = q.id;
    for (const [name, err] of dead) ctx.add(failed({ group, workload, engine: name }, err));
    // Answer pass.
    const answers = new Map<EngineName, Row[]>();
    const answerFailures = new Map<EngineName, unknown>();
    for (const h of live) {
      try {
        answers.set(h.name, (await h.query(querySqlFor(q, h.name), opts.queryTimeoutMs)).rows);
      } catch (err) {
        answerFailures.set(h.name, err);
      }
    }
    const refName = REFERENCE_ORDER.find((n) => answers.has(n));
    const ref = refName ? answers.get(refName)! : undefined;
    const timed: TpchHost[] = [];
    for (const h of live) {
      const err = answerFailures.get(h.name);
      if (err !== undefined) {
        ctx.add(failed({ group, workload, engine: h.name }, err));
        continue;
      }
      const diff = ref && h.name !== refName ? compareAnswers(ref, answers.get(h.name)!) : undefined;
      if (diff) {
        ctx.add({
          group, workload, engine: h.name, status: 'error', unit: 'ms', samples: [],
          error: { message: `answer differs from ${refName}: ${diff}` }, answer: answerDigest(answers.get(h.name)!),
        });
        continue;
      }
      timed.push(h);
    }
    const outcomes = await interleave(timed, { warmup: Math.max(0, opts.warmup - 1), runs: opts.runs, budgetMs: opts.budgetMs }, async (h) => {
      return (await h.query(querySqlFor(q, h.name), opts.queryTimeoutMs)).ms;
    });
    for (const h of timed) {
      ctx.add(toMeasurement({ group, workload, engine: h.name }, outcomes.get(h.name)!, {
        answer: answerDigest(answers.get(h.name)!),
        ...(h.name === refName ? { note: 'reference answer' } : {}),
      }));
    }
    const line = live.map((h) => {
      const s = outcomes.get(h.name);
      if (!s) return `${h.name} ${answerFailures.has(h.name) ? classifyFailure(h.name, answerFailures.get(h.name)).status : 'error'}`;
      if (s.failure) return `${h.name} ${s.failure.status}`;
      const med = [...s.samples].sort((a, b) => a - b)[Math.floor(s.samples.length / 2)];
      return `${h.name} ${med === undefined ? '-' : med.toFixed(1)}`;
    }).join(', ');
    ctx.log(`tpch ${q.id}: ${line} ms`);
  }
  for (const h of live) await h.close().catch(() => {});
}
