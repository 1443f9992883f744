/**
 * Prepared statements: a SELECT is bound and planned once and its plan re-run with new parameter
 * values; other statements are re-bound per execution (they are cheap to bind and their plans
 * depend on catalog state at execution time).
 *
 * Invariants:
 *  1. A prepared SELECT's plan refers to tables by name; each execution resolves them in the
 *     executing session's catalog (so a plan never reads another transaction's table object).
 */
import type { SqlType } from '@quiverdb/common';
import type { Statement } from '../sql/statement.js';
import type { Plan } from '../plan/plan.js';
import { bindStatementPlan, executeStatement, makeResult, newBindCtx, newExecCtx } from './statement.js';
import type { QueryResult, SessionContext } from './statement.js';
import { execPlan } from './execute.js';

export interface Prepared {
  readonly statement: Statement;
  /** parameter types inferred from context ($1 is index 0); undefined = not referenced */
  readonly paramTypes: readonly (SqlType | undefined)[];
  /** result columns, when the statement is a SELECT */
  readonly columns: readonly { name: string; type: SqlType }[] | undefined;
  execute(ctx: SessionContext): Promise<QueryResult>;
}

export function prepareStatement(s: Statement, ctx: SessionContext): Prepared {
  if (s.kind === 'select') {
    const bctx = newBindCtx(ctx);
    const plan: Plan = bindStatementPlan(s, bctx, ctx.settings);
    const columns = plan.out.map((c) => ({ name: c.name, type: c.t.id === 'NULL' ? { id: 'TEXT' } as SqlType : c.t }));
    return {
      statement: s, paramTypes: bctx.paramTypes, columns,
      async execute(c: SessionContext): Promise<QueryResult> {
        const rel = await execPlan(plan, newExecCtx(c));
        return makeResult('SELECT', plan.out, rel);
      },
    };
  }
  return { statement: s, paramTypes: [], columns: undefined, execute: (c) => executeStatement(s, c) };
}
