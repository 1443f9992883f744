/**
 * Named windows (`WINDOW w AS (...)`, `OVER w`, `OVER (w ORDER BY ...)`): resolved on the parse
 * tree before binding, so the expression binder only ever sees complete window definitions.
 * Follows PostgreSQL's transformWindowDefinitions / transformWindowFuncCall:
 *  - a WINDOW entry may name an earlier entry; `OVER w` uses w as it is (its frame included);
 *  - a reference copies the partition of the named window and may not give its own (42P20),
 *    may add an ORDER BY only if the named window has none (42P20), and may not copy a window
 *    that has a frame clause unless it is used as plain `OVER w` (42P20);
 *  - an unknown window name is 42704, a name defined twice 42P20.
 *
 * Invariants:
 *  1. The returned tree has no WindowDef with `name` or `refname` outside the WINDOW clause,
 *     within this SELECT level (nested SELECTs keep their own WINDOW clauses and are not entered).
 *  2. The input tree is not modified (nodes on a changed path are copied).
 *
 * Concurrency: pure functions of the parse tree; no shared state.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { PgNode } from '../sql/statement.js';

/** frameOptions bit set when a frame clause was written (FRAMEOPTION_NONDEFAULT) */
const FRAME_NONDEFAULT = 0x1;

/** The complete definition of a window: `def` merged with the window it names, if any. */
function merge(def: PgNode, named: ReadonlyMap<string, PgNode>): PgNode {
  if (!def.refname) return { ...def, name: undefined };
  const ref = named.get(def.refname);
  if (!ref) throw new DbError(SqlState.UndefinedObject, `window "${def.refname}" does not exist`);
  if (def.partitionClause?.length) throw new DbError(SqlState.WindowingError, `cannot override PARTITION BY clause of window "${def.refname}"`);
  const ownOrder = def.orderClause?.length ? def.orderClause : undefined;
  if (ownOrder && ref.orderClause?.length) throw new DbError(SqlState.WindowingError, `cannot override ORDER BY clause of window "${def.refname}"`);
  if ((ref.frameOptions ?? 0) & FRAME_NONDEFAULT) {
    // (PostgreSQL hints "Omit the parentheses in this OVER clause" for a bare OVER (w))
    throw new DbError(SqlState.WindowingError, `cannot copy window "${def.refname}" because it has a frame clause`);
  }
  return {
    partitionClause: ref.partitionClause,
    orderClause: ownOrder ?? ref.orderClause,
    frameOptions: def.frameOptions,
    startOffset: def.startOffset,
    endOffset: def.endOffset,
  };
}

/** WINDOW clause → name → complete definition. */
function windowClause(s: PgNode): Map<string, PgNode> {
  const named = new Map<string, PgNode>();
  for (const w of (s.windowClause ?? []) as PgNode[]) {
    const def = w.WindowDef;
    if (named.has(def.name)) throw new DbError(SqlState.WindowingError, `window "${def.name}" is already defined`);
    named.set(def.name, merge(def, named));
  }
  return named;
}

function resolveOver(over: PgNode, named: ReadonlyMap<string, PgNode>): PgNode {
  if (over.name) {
    // OVER w: the named window as it is
    const w = named.get(over.name);
    if (!w) throw new DbError(SqlState.UndefinedObject, `window "${over.name}" does not exist`);
    return w;
  }
  return merge(over, named);
}

function walk(n: unknown, named: ReadonlyMap<string, PgNode>): unknown {
  if (Array.isArray(n)) {
    let out: unknown[] | null = null;
    n.forEach((x, i) => {
      const y = walk(x, named);
      if (y !== x) { out ??= [...n]; out[i] = y; }
    });
    return out ?? n;
  }
  if (n === null || typeof n !== 'object') return n;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(n as Record<string, unknown>)) {
    if (k === 'SelectStmt') continue; // a nested query level has its own WINDOW clause
    let y: unknown;
    if (k === 'FuncCall' && (v as PgNode).over && ((v as PgNode).over.name || (v as PgNode).over.refname)) {
      const fc = walk(v, named) as PgNode;
      y = { ...fc, over: resolveOver(fc.over, named) };
    } else y = walk(v, named);
    if (y !== v) { out ??= { ...(n as Record<string, unknown>) }; out[k] = y; }
  }
  return out ?? n;
}

/** `s` with every window reference of its select list and ORDER BY replaced by its definition. */
export function resolveWindowNames(s: PgNode): PgNode {
  // without a WINDOW clause there is nothing to resolve (a stray OVER w fails in bind/expr.ts, 42704)
  if (!s.windowClause?.length) return s;
  const named = windowClause(s);
  const targetList = walk(s.targetList, named), sortClause = walk(s.sortClause, named);
  return { ...s, targetList, sortClause, windowClause: undefined };
}
