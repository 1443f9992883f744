/**
 * LockRows: SELECT ... FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE [NOWAIT | SKIP LOCKED]
 * [LIMIT n] [OFFSET m], as PostgreSQL runs it. PostgreSQL puts LockRows under Limit and pulls rows
 * one by one, so a row is locked only when the limit asks for it, and a row skipped by SKIP LOCKED
 * (or passed over by the READ COMMITTED re-check) does not count. With a materializing executor
 * the same happens here explicitly: the input (already filtered and sorted) is walked in order, in
 * chunks no larger than the rows still needed, each chunk's rows are locked table by table through
 * `TableSource.lockRows`, and the walk stops once offset + limit rows are locked.
 *
 * The classic job queue (`... WHERE state = 'new' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`)
 * thus hands each worker a distinct row and locks nothing else.
 *
 * Invariants:
 *  1. Rows come out in input order; every row returned holds a lock on each target's row.
 *  2. No row beyond the first offset + limit rows that locked was ever asked for a lock.
 *  3. The result has `plan.out.length` columns (the row id columns too; the binder drops them).
 *
 * Concurrency: `lockRows` may wait (lock waits, lock_timeout, deadlock detection happen in the
 * engine); other sessions run meanwhile. Rows changed by a transaction that committed after the
 * statement's snapshot are the engine's business: 40001 under REPEATABLE READ / SERIALIZABLE; under
 * READ COMMITTED the engine leaves the row out (it does not count), and re-runs the statement on a
 * new snapshot limited to the rows this run visited, keeping the locks taken — the effect of
 * PostgreSQL's EvalPlanQual (the WHERE clause re-evaluated on the row's newest version; a deleted
 * row dropped), except that the re-run sorts by the new values.
 *
 * Also here: `retryTargets`, the same limit for UPDATE / DELETE targets, so that RETURNING lists
 * exactly the rows a re-run changed.
 */
import { DbError } from '@quiverdb/common';
import type { TableSource } from '../catalog/catalog.js';
import type { Plan } from '../plan/plan.js';
import type { ExecCtx } from './eval.js';
import { evalExpr } from './eval.js';
import type { Rel } from './rel.js';
import { EMPTY_ROW, gather } from './rel.js';

type LockRowsPlan = Extract<Plan, { k: 'lockRows' }>;

export async function execLockRows(plan: LockRowsPlan, ctx: ExecCtx, run: (p: Plan, ctx: ExecCtx) => Promise<Rel>): Promise<Rel> {
  let off = 0, lim = Infinity;
  if (plan.offset) { const v = (await evalExpr(plan.offset, EMPTY_ROW, ctx))[0]; if (v !== null) off = Number(v); }
  if (plan.limit) { const v = (await evalExpr(plan.limit, EMPTY_ROW, ctx))[0]; if (v !== null) lim = Number(v); }
  if (off < 0) throw new DbError('2201X' as never, 'OFFSET must not be negative');
  if (lim < 0) throw new DbError('2201W' as never, 'LIMIT must not be negative');
  const input = await run(plan.input, ctx);
  const need = off + lim;
  if (input.n === 0 || need === 0) return gather(input, []);
  // the session's current table objects (a cached plan may hold another transaction's)
  const tables = plan.targets.map((t) => ctx.catalog.getTable(t.name) ?? t.table);
  const kept: number[] = [];
  let pos = 0;
  while (pos < input.n && kept.length < need) {
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    const size = Math.min(input.n - pos, need - kept.length);
    let alive: number[] = Array.from({ length: size }, (_x, i) => pos + i);
    for (let t = 0; t < plan.targets.length && alive.length > 0; t++) {
      const target = plan.targets[t]!;
      const table = tables[t]!;
      if (!table.lockRows) continue;
      const col = input.cols[target.col]!;
      // a NULL row id (no row of this table in the output row) has nothing to lock
      const rows = alive.filter((r) => col[r] !== null && col[r] !== undefined);
      if (rows.length === 0) continue;
      const ids = Float64Array.from(rows, (r) => Number(col[r]));
      const locked = await table.lockRows(ids, target.mode, target.wait);
      if (locked.length === rows.length) continue;
      const ok = new Set(locked.map((p) => rows[p]!));
      alive = alive.filter((r) => ok.has(r) || col[r] === null || col[r] === undefined);
    }
    for (const r of alive) kept.push(r);
    pos += size;
  }
  if (kept.length > need) kept.length = need;
  return gather(input, off > 0 ? kept.slice(off) : kept);
}

/** For EXPLAIN: the node's label. */
export function lockRowsLabel(plan: LockRowsPlan): string {
  const mode = { update: 'UPDATE', noKeyUpdate: 'NO KEY UPDATE', share: 'SHARE', keyShare: 'KEY SHARE' };
  const wait = { wait: '', nowait: ' NOWAIT', skipLocked: ' SKIP LOCKED' };
  const parts = plan.targets.map((t) => `${t.label.split(' ').pop()} FOR ${mode[t.mode]}${wait[t.wait]}`);
  return `LockRows (${parts.join(', ')})${plan.limit || plan.offset ? ' + Limit' : ''}`;
}

/**
 * UPDATE / DELETE targets (row id in column `idCol`): keep the rows the table still lets the
 * statement change (`TableSource.retryFilter`: a READ COMMITTED re-run after a concurrent update
 * changes only the rows its first run targeted), so RETURNING lists exactly the rows changed.
 */
export async function retryTargets(table: TableSource, rows: Rel, idCol: number): Promise<Rel> {
  if (!table.retryFilter || rows.n === 0) return rows;
  const keep = await table.retryFilter(Float64Array.from(rows.cols[idCol]! as number[]));
  return keep ? gather(rows, keep) : rows;
}
