/** Re-exports for the binder: bound expressions and the parse-tree node type. */
export type { BExpr } from '../plan/plan.js';
export type { PgNode } from '../sql/statement.js';
