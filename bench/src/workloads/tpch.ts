/**
 * TPC-H: generate once, load into every engine (timed), then each query: one answer pass
 * (also the first warm-up) whose results are compared with the reference engine (DuckDB, or
 * the first engine that answered), then timed runs interleaved across engines.
 */
import { createAdapter } from '../engines/registry.js';
import type { EngineAdapter, EngineName, Row } from '../engines/adapter.js';
import { answerDigest, compareAnswers } from '../harness/answers.js';
import type { BenchContext } from '../harness/context.js';
import { classifyFailure, failed, interleave, now, toMeasurement } from '../harness/measure.js';
import { generateTpch } from '../tpch/generate.js';
import { TPCH_QUERIES } from '../tpch/queries.js';
import { checksumTable } from '../table-data.js';
import { rssMb } from './memory.js';

const REFERENCE_ORDER: readonly EngineName[] = ['duckdb', 'sqlite', 'pglite', 'quiverdb', 'alasql'];

export async function runTpch(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const t0 = now();
  const data = generateTpch(opts.sf, opts.seed);
  const tables = Object.values(data);
  const totalRows = tables.reduce((n, t) => n + t.rowCount, 0);
  for (const t of tables) ctx.report.checksums[`sf${opts.sf}:${t.def.name}`] = checksumTable(t);
  ctx.log(`tpch: generated SF ${opts.sf} (${totalRows.toLocaleString('en-US')} rows) in ${Math.round(now() - t0)} ms`);

  const live: EngineAdapter[] = [];
  const dead = new Map<EngineName, unknown>();
  const group = 'tpch';
  const loadName = `load SF ${opts.sf} (8 tables)`;
  for (const name of opts.engines) {
    const adapter = createAdapter(name);
    const before = rssMb();
    try {
      await adapter.open({ kind: 'memory' });
      const start = now();
      for (const t of tables) await adapter.load(t);
      const ms = now() - start;
      ctx.add(toMeasurement({ group: 'load', workload: loadName, engine: name }, { samples: [ms] }, { ops: totalRows, throughputUnit: 'rows/s' }));
      live.push(adapter);
      const after = rssMb();
      ctx.report.memory.push({ phase: `tpch SF ${opts.sf} loaded`, engine: name, rssMb: after, deltaMb: after - before });
      ctx.log(`tpch: ${name} loaded in ${Math.round(ms)} ms`);
    } catch (err) {
      dead.set(name, err);
      ctx.add(failed({ group: 'load', workload: loadName, engine: name }, err));
      ctx.log(`tpch: ${name} load failed: ${classifyFailure(name, err).message}`);
      await adapter.close().catch(() => {});
    }
  }

  for (const q of TPCH_QUERIES) {
    const workload = q.id;
    for (const [name, err] of dead) ctx.add(failed({ group, workload, engine: name }, err));
    // Answer pass.
    const answers = new Map<EngineName, Row[]>();
    const answerFailures = new Map<EngineName, unknown>();
    for (const e of live) {
      try {
        answers.set(e.name, await e.query(q.sql));
      } catch (err) {
        answerFailures.set(e.name, err);
      }
    }
    const refName = REFERENCE_ORDER.find((n) => answers.has(n));
    const ref = refName ? answers.get(refName)! : undefined;
    const timed: EngineAdapter[] = [];
    for (const e of live) {
      const err = answerFailures.get(e.name);
      if (err !== undefined) {
        ctx.add(failed({ group, workload, engine: e.name }, err));
        continue;
      }
      const diff = ref && e.name !== refName ? compareAnswers(ref, answers.get(e.name)!) : undefined;
      if (diff) {
        ctx.add({ group, workload, engine: e.name, status: 'error', unit: 'ms', samples: [], error: { message: `answer differs from ${refName}: ${diff}` }, answer: answerDigest(answers.get(e.name)!) });
        continue;
      }
      timed.push(e);
    }
    const outcomes = await interleave(timed, { warmup: Math.max(0, opts.warmup - 1), runs: opts.runs, budgetMs: opts.budgetMs }, async (e) => {
      const start = now();
      await e.query(q.sql);
      return now() - start;
    });
    for (const e of timed) {
      ctx.add(toMeasurement({ group, workload, engine: e.name }, outcomes.get(e.name)!, {
        answer: answerDigest(answers.get(e.name)!),
        ...(e.name === refName ? { note: 'reference answer' } : {}),
      }));
    }
    const line = timed.map((e) => {
      const s = outcomes.get(e.name)!;
      const med = [...s.samples].sort((a, b) => a - b)[Math.floor(s.samples.length / 2)];
      return `${e.name} ${med === undefined ? '-' : med.toFixed(1)}`;
    }).join(', ');
    ctx.log(`tpch ${q.id}: ${line} ms`);
  }
  for (const e of live) await e.close().catch(() => {});
}
