/**
 * Name resolution scopes. A `Scope` lists the columns visible to one SELECT (its FROM items, in
 * FROM order); a `Frame` is one subquery level: names not found in its scopes resolve in the
 * enclosing query's scope and become correlation parameters of the subquery.
 *
 * Invariants:
 *  1. `ScopeCol.i` is the column's index in the input the scope's expressions are evaluated on.
 *  2. Each correlation parameter of a frame has a statement-unique id, and the same outer
 *     expression is registered once per frame.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { SqlType } from '@quiverdb/common';
import type { BExpr } from '../plan/plan.js';
import type { Catalog } from '../catalog/catalog.js';
import { exprKey } from './expr-key.js';

export interface ScopeCol {
  readonly rel: string | null;
  readonly name: string;
  readonly t: SqlType;
  readonly i: number;
  /** hidden from unqualified lookup and `*` (right side of a USING join) */
  readonly usingDup?: boolean;
}

export interface Frame {
  readonly parent: Scope | null;
  readonly params: { id: number; e: BExpr }[];
}

export interface CteDef {
  readonly name: string;
  readonly node: unknown;
  readonly colNames: readonly string[] | undefined;
  readonly recursive: boolean;
  /** set while binding a recursive CTE's step: references become work-table scans */
  work?: { id: number; out: { name: string; t: SqlType }[] };
}

export interface BindCtx {
  readonly catalog: Catalog;
  readonly paramTypes: (SqlType | undefined)[];
  nextId: number;
  /** views being expanded (cycle guard) */
  readonly viewStack: string[];
}

export class Scope {
  constructor(
    readonly cols: ScopeCol[],
    readonly frame: Frame,
    readonly bctx: BindCtx,
    readonly ctes: Map<string, CteDef>,
  ) {}

  /** Resolve a (possibly qualified) column name to an expression in this scope's input. */
  resolve(parts: readonly string[]): BExpr | undefined {
    const name = parts[parts.length - 1]!;
    const rel = parts.length >= 2 ? parts[parts.length - 2]! : null;
    let found: ScopeCol | undefined;
    for (const c of this.cols) {
      if (c.name !== name) continue;
      if (rel !== null ? c.rel !== rel : c.usingDup) continue;
      if (found !== undefined && found.i !== c.i) {
        throw new DbError(SqlState.AmbiguousColumn, `column reference "${name}" is ambiguous`);
      }
      found = c;
    }
    if (found) return { k: 'col', t: found.t, i: found.i };
    const parent = this.frame.parent;
    if (!parent) return undefined;
    const outer = parent.resolve(parts);
    if (!outer) return undefined;
    const key = exprKey(outer);
    for (const p of this.frame.params) if (exprKey(p.e) === key) return { k: 'corr', t: outer.t, id: p.id };
    const id = this.bctx.nextId++;
    this.frame.params.push({ id, e: outer });
    return { k: 'corr', t: outer.t, id };
  }

  hasRel(rel: string): boolean { return this.cols.some((c) => c.rel === rel); }

  findCte(name: string): CteDef | undefined {
    const d = this.ctes.get(name);
    if (d) return d;
    return this.frame.parent?.findCte(name);
  }
}
