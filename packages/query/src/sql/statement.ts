/**
 * Statements: the closed union `parseSql` returns. Kinds the engine executes itself (transaction
 * control, settings, LOCK, VACUUM ...) are plain objects; the kinds the SQL stack executes keep
 * libpg-query's node for the binder.
 *
 * Invariants:
 *  1. `kind` values are exhaustive and mutually exclusive; `ENGINE_KINDS` lists exactly the
 *     kinds `isEngineStatement` answers true for.
 */
import type { QualifiedName } from '../catalog/catalog.js';

/** A libpg-query parse-tree node (protobuf JSON: `{ NodeType: { ...fields } }`). */
export type PgNode = any;

export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';
export type LockModeName =
  | 'ACCESS SHARE' | 'ROW SHARE' | 'ROW EXCLUSIVE' | 'SHARE UPDATE EXCLUSIVE'
  | 'SHARE' | 'SHARE ROW EXCLUSIVE' | 'EXCLUSIVE' | 'ACCESS EXCLUSIVE';

interface Base { readonly sql: string }

export type EngineStatement =
  | (Base & { readonly kind: 'begin'; readonly isolation?: IsolationLevel; readonly readOnly?: boolean; readonly deferrable?: boolean })
  | (Base & { readonly kind: 'commit' })
  | (Base & { readonly kind: 'rollback' })
  | (Base & { readonly kind: 'savepoint'; readonly name: string })
  | (Base & { readonly kind: 'release'; readonly name: string })
  | (Base & { readonly kind: 'rollbackTo'; readonly name: string })
  | (Base & { readonly kind: 'setTransaction'; readonly isolation?: IsolationLevel; readonly readOnly?: boolean })
  | (Base & { readonly kind: 'set'; readonly name: string; readonly value: string | null; readonly local: boolean })
  | (Base & { readonly kind: 'show'; readonly name: string })
  | (Base & { readonly kind: 'reset'; readonly name: string })
  | (Base & { readonly kind: 'checkpoint' })
  | (Base & { readonly kind: 'lock'; readonly tables: QualifiedName[]; readonly mode: LockModeName; readonly nowait: boolean })
  | (Base & { readonly kind: 'vacuum'; readonly table?: QualifiedName })
  | (Base & { readonly kind: 'analyze'; readonly table?: QualifiedName });

export type SqlStatement =
  | (Base & { readonly kind: 'select'; readonly node: PgNode })
  | (Base & { readonly kind: 'insert'; readonly node: PgNode })
  | (Base & { readonly kind: 'update'; readonly node: PgNode })
  | (Base & { readonly kind: 'delete'; readonly node: PgNode })
  | (Base & { readonly kind: 'createTable'; readonly node: PgNode })
  | (Base & { readonly kind: 'createTableAs'; readonly node: PgNode })
  | (Base & { readonly kind: 'dropTable'; readonly names: QualifiedName[]; readonly ifExists: boolean; readonly cascade: boolean })
  | (Base & { readonly kind: 'createView'; readonly node: PgNode })
  | (Base & { readonly kind: 'dropView'; readonly names: QualifiedName[]; readonly ifExists: boolean })
  | (Base & { readonly kind: 'createIndex'; readonly node: PgNode })
  | (Base & { readonly kind: 'dropIndex'; readonly names: QualifiedName[]; readonly ifExists: boolean })
  | (Base & { readonly kind: 'createSequence'; readonly node: PgNode })
  | (Base & { readonly kind: 'alterSequence'; readonly node: PgNode })
  | (Base & { readonly kind: 'dropSequence'; readonly names: QualifiedName[]; readonly ifExists: boolean })
  | (Base & { readonly kind: 'alterTable'; readonly node: PgNode })
  | (Base & { readonly kind: 'rename'; readonly node: PgNode })
  | (Base & { readonly kind: 'truncate'; readonly names: QualifiedName[] })
  | (Base & { readonly kind: 'createSchema'; readonly name: string; readonly ifNotExists: boolean })
  | (Base & { readonly kind: 'dropSchema'; readonly names: string[]; readonly ifExists: boolean; readonly cascade: boolean })
  | (Base & { readonly kind: 'explain'; readonly analyze: boolean; readonly statement: SqlStatement });

export type Statement = EngineStatement | SqlStatement;

export const ENGINE_KINDS: ReadonlySet<string> = new Set([
  'begin', 'commit', 'rollback', 'savepoint', 'release', 'rollbackTo', 'setTransaction',
  'set', 'show', 'reset', 'checkpoint', 'lock', 'vacuum', 'analyze',
]);

export function isEngineStatement(s: Statement): s is EngineStatement {
  return ENGINE_KINDS.has(s.kind);
}

/** PostgreSQL command tag of a statement. */
export function statementTag(s: Statement): string {
  switch (s.kind) {
    case 'begin': return 'BEGIN';
    case 'commit': return 'COMMIT';
    case 'rollback': return 'ROLLBACK';
    case 'savepoint': return 'SAVEPOINT';
    case 'release': return 'RELEASE';
    case 'rollbackTo': return 'ROLLBACK';
    case 'setTransaction': return 'SET';
    case 'set': return 'SET';
    case 'show': return 'SHOW';
    case 'reset': return 'RESET';
    case 'checkpoint': return 'CHECKPOINT';
    case 'lock': return 'LOCK TABLE';
    case 'vacuum': return 'VACUUM';
    case 'analyze': return 'ANALYZE';
    case 'select': return 'SELECT';
    case 'insert': return 'INSERT';
    case 'update': return 'UPDATE';
    case 'delete': return 'DELETE';
    case 'createTable': return 'CREATE TABLE';
    case 'createTableAs': return 'SELECT';
    case 'dropTable': return 'DROP TABLE';
    case 'createView': return 'CREATE VIEW';
    case 'dropView': return 'DROP VIEW';
    case 'createIndex': return 'CREATE INDEX';
    case 'dropIndex': return 'DROP INDEX';
    case 'explain': return 'EXPLAIN';
    case 'alterTable': return 'ALTER TABLE';
    case 'createSequence': return 'CREATE SEQUENCE';
    case 'alterSequence': return 'ALTER SEQUENCE';
    case 'dropSequence': return 'DROP SEQUENCE';
    case 'rename': return s.node.renameType === 'OBJECT_INDEX' ? 'ALTER INDEX' : s.node.renameType === 'OBJECT_VIEW' ? 'ALTER VIEW' : 'ALTER TABLE';
    case 'truncate': return 'TRUNCATE TABLE';
    case 'createSchema': return 'CREATE SCHEMA';
    case 'dropSchema': return 'DROP SCHEMA';
  }
}
