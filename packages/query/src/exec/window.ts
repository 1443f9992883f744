/**
 * Window operator: for each window function, partition the input (hash on PARTITION BY), sort
 * each partition by ORDER BY, and compute the function per row over its frame. Output = input
 * columns followed by one column per function, rows in input order.
 *
 * Frames: ROWS / RANGE / GROUPS with UNBOUNDED / offset / CURRENT ROW bounds. Default frame with
 * ORDER BY is RANGE UNBOUNDED PRECEDING .. CURRENT ROW (peers included); without, the partition.
 *
 * Invariants:
 *  1. Results are written at the row's input position, so the input order is preserved.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { WinSpec, FrameBound } from '../plan/plan.js';
import { keyOf } from '../types/values.js';
import { groupIds } from './hash-keys.js';
import { evalExpr } from './eval.js';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { EMPTY_ROW } from './rel.js';
import { cmpRows } from './execute.js';
import { makeAccumulator } from './aggregate.js';
import { columnBytes, relBytes, reserve } from './memory.js';

async function boundOffset(b: FrameBound, ctx: ExecCtx): Promise<number> {
  if (!b.offset) return 0;
  const v = (await evalExpr(b.offset, EMPTY_ROW, ctx))[0];
  if (v === null) throw new DbError(SqlState.InvalidParameterValue ?? '22013', 'frame offset must not be null');
  const n = Number(v);
  if (n < 0) throw new DbError('22013' as never, 'frame starting offset must not be negative');
  return n;
}

export async function runWindow(input: Rel, funcs: readonly WinSpec[], ctx: ExecCtx): Promise<Rel> {
  const n = input.n;
  const outCols: unknown[][] = [];
  const mem = reserve(ctx, 'window');
  mem.grow(relBytes(input)); // the partitions are the input rows
  for (const f of funcs) {
    const out = new Array<unknown>(n).fill(null);
    const pcols = await Promise.all(f.partition.map((e) => evalExpr(e, input, ctx)));
    const ocols = await Promise.all(f.order.map((o) => evalExpr(o.e, input, ctx)));
    const args = await Promise.all(f.args.map((e) => evalExpr(e, input, ctx)));
    const filt = f.filter ? await evalExpr(f.filter, input, ctx) : null;
    mem.grow(24 * n + columnBytes(out, n)); // partition row lists, group ids, the result column
    const parts = new Map<number, number[]>();
    const gids = groupIds(pcols, n);
    for (let i = 0; i < n; i++) {
      const k = gids.ids[i]!;
      let p = parts.get(k);
      if (!p) { p = []; parts.set(k, p); }
      p.push(i);
    }
    const frame = f.frame;
    const startOff = frame ? await boundOffset(frame.start, ctx) : 0;
    const endOff = frame ? await boundOffset(frame.end, ctx) : 0;
    for (const rows of parts.values()) {
      if (f.order.length > 0) rows.sort((x, y) => cmpRows(ocols, f.order, x, y) || x - y);
      const m = rows.length;
      // peer groups
      const peerStart = new Int32Array(m), peerEnd = new Int32Array(m), groupNo = new Int32Array(m);
      let g = 0;
      for (let i = 0; i < m; i++) {
        if (i > 0 && (f.order.length === 0 || cmpRows(ocols, f.order, rows[i - 1]!, rows[i]!) === 0)) { peerStart[i] = peerStart[i - 1]!; groupNo[i] = g; }
        else { peerStart[i] = i; if (i > 0) g++; groupNo[i] = g; }
      }
      for (let i = m - 1; i >= 0; i--) peerEnd[i] = i < m - 1 && peerStart[i + 1] === peerStart[i] ? peerEnd[i + 1]! : i;
      const groupFirst: number[] = [], groupLast: number[] = [];
      for (let i = 0; i < m; i++) { if (groupFirst[groupNo[i]!] === undefined) groupFirst[groupNo[i]!] = i; groupLast[groupNo[i]!] = i; }
      const frameOf = (i: number): [number, number] => {
        if (!frame) return f.order.length > 0 ? [0, peerEnd[i]!] : [0, m - 1];
        const pos = (b: FrameBound, off: number, isStart: boolean): number => {
          switch (b.kind) {
            case 'unboundedPreceding': return 0;
            case 'unboundedFollowing': return m - 1;
            case 'currentRow':
              if (frame.mode === 'rows') return i;
              return isStart ? peerStart[i]! : peerEnd[i]!;
            case 'preceding': case 'following': {
              const sign = b.kind === 'preceding' ? -1 : 1;
              if (frame.mode === 'rows') return i + sign * off;
              if (frame.mode === 'groups') {
                const tg = groupNo[i]! + sign * off;
                if (tg < 0) return isStart ? 0 : -1;
                if (tg >= groupFirst.length) return isStart ? m : m - 1;
                return isStart ? groupFirst[tg]! : groupLast[tg]!;
              }
              // RANGE with offset: numeric order key
              const oc = ocols[0]!;
              const desc = f.order[0]?.desc ? -1 : 1;
              const cur = Number(oc[rows[i]!]);
              const target = cur + sign * desc * off;
              if (isStart) { let j = 0; while (j < m && (oc[rows[j]!] === null || (Number(oc[rows[j]!]) - target) * desc < 0)) j++; return j; }
              let j = m - 1; while (j >= 0 && (oc[rows[j]!] === null || (Number(oc[rows[j]!]) - target) * desc > 0)) j--; return j;
            }
          }
        };
        return [Math.max(0, pos(frame.start, startOff, true)), Math.min(m - 1, pos(frame.end, endOff, false))];
      };
      switch (f.name) {
        case 'row_number': for (let i = 0; i < m; i++) out[rows[i]!] = BigInt(i + 1); break;
        case 'rank': for (let i = 0; i < m; i++) out[rows[i]!] = BigInt(peerStart[i]! + 1); break;
        case 'dense_rank': for (let i = 0; i < m; i++) out[rows[i]!] = BigInt(groupNo[i]! + 1); break;
        case 'percent_rank': for (let i = 0; i < m; i++) out[rows[i]!] = m > 1 ? peerStart[i]! / (m - 1) : 0; break;
        case 'cume_dist': for (let i = 0; i < m; i++) out[rows[i]!] = (peerEnd[i]! + 1) / m; break;
        case 'ntile': {
          const k = Number(args[0]![rows[0]!]);
          if (!(k > 0)) throw new DbError(SqlState.InvalidParameterValue, 'argument of ntile must be greater than zero');
          const base = Math.floor(m / k), extra = m % k;
          let i = 0;
          for (let b = 0; b < k && i < m; b++) { const size = base + (b < extra ? 1 : 0); for (let j = 0; j < size; j++) out[rows[i++]!] = b + 1; }
          break;
        }
        case 'lag': case 'lead': {
          const off = args[1] ? args[1] : null;
          const def = args[2] ?? null;
          for (let i = 0; i < m; i++) {
            const o = off ? Number(off[rows[i]!]) : 1;
            const j = f.name === 'lag' ? i - o : i + o;
            out[rows[i]!] = j >= 0 && j < m ? args[0]![rows[j]!] : def ? def[rows[i]!] : null;
          }
          break;
        }
        case 'first_value': case 'last_value': case 'nth_value':
          for (let i = 0; i < m; i++) {
            const [a, b] = frameOf(i);
            if (a > b) { out[rows[i]!] = null; continue; }
            if (f.name === 'first_value') out[rows[i]!] = args[0]![rows[a]!];
            else if (f.name === 'last_value') out[rows[i]!] = args[0]![rows[b]!];
            else { const k = Number(args[1]![rows[i]!]); out[rows[i]!] = a + k - 1 <= b ? args[0]![rows[a + k - 1]!] : null; }
          }
          break;
        default: {
          // aggregate over the frame; frames that only grow reuse a running accumulator
          const running = (!frame && f.order.length > 0) || (frame && frame.start.kind === 'unboundedPreceding' && !f.distinct);
          if (running) {
            const acc = makeAccumulator(f.name, f.args[0]?.t, f.t, f.star);
            let fed = -1;
            for (let i = 0; i < m; i++) {
              const [, b] = frameOf(i);
              while (fed < b) {
                fed++;
                const r = rows[fed]!;
                if (filt && filt[r] !== true) continue;
                if (f.star) acc.add(0, 1);
                else if (args[0]![r] !== null) acc.add(0, args[0]![r], args[1]?.[r]);
              }
              out[rows[i]!] = acc.result(0);
            }
          } else {
            for (let i = 0; i < m; i++) {
              const [a, b] = frameOf(i);
              const acc = makeAccumulator(f.name, f.args[0]?.t, f.t, f.star);
              const seen = f.distinct ? new Set<unknown>() : null;
              for (let j = a; j <= b; j++) {
                const r = rows[j]!;
                if (filt && filt[r] !== true) continue;
                if (f.star) { acc.add(0, 1); continue; }
                const v = args[0]![r];
                if (v === null) continue;
                if (seen) { const k = keyOf(v); if (seen.has(k)) continue; seen.add(k); }
                acc.add(0, v, args[1]?.[r]);
              }
              out[rows[i]!] = acc.result(0);
            }
          }
        }
      }
    }
    outCols.push(out);
  }
  mem.release();
  return { n, cols: [...input.cols, ...outCols] };
}
