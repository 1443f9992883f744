/**
 * Parser adapter: libpg-query (PostgreSQL's own grammar, WASM) → `Statement`s.
 *
 * `parseSql` answers from the parse cache (exec/plan-cache.ts) first, then tries the exact fast
 * path for literal-only `INSERT ... VALUES` (fast-insert-parse.ts), then libpg-query.
 *
 * Invariants:
 *  1. `initSql()` must have resolved before `parseSql` is called (the WASM module loads once).
 *  2. Syntax errors become DbError 42601 with a 1-based `position`.
 *  3. A statement's `sql` is its own text (libpg-query's UTF-8 byte offsets mapped to string
 *     offsets), trimmed, without the `;`.
 */
import { loadModule, parseSync } from 'libpg-query';
import { DbError, SqlState } from '@quiverdb/common';
import type { QualifiedName } from '../catalog/catalog.js';
import type { IsolationLevel, LockModeName, PgNode, SqlStatement, Statement } from './statement.js';
import { cachedParse, rememberParse } from '../exec/plan-cache.js';
import { fastParseInsert } from './fast-insert-parse.js';

let loaded: Promise<void> | undefined;
let ready = false;

export async function initSql(): Promise<void> {
  loaded ??= loadModule().then(() => { ready = true; });
  await loaded;
}

const LOCK_MODES: LockModeName[] = ['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE',
  'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'];

/** Raw parse (used for view bodies and DEFAULT expressions too). */
export function parseRaw(sql: string): { stmt: PgNode; location: number; len: number }[] {
  if (!ready) throw new DbError(SqlState.ObjectNotInPrerequisiteState, 'initSql() has not completed');
  try {
    let r: PgNode;
    try { r = parseSync(sql) as PgNode; } catch (e) {
      // SQLite's empty IN list `x IN ()` (false for every x): accepted as an extension
      if (!/\bIN\s*\(\s*\)/i.test(sql)) throw e;
      r = parseSync(sql.replace(/\bIN\s*\(\s*\)/gi, 'IN (__quiver_empty_in())')) as PgNode;
    }
    return (r.stmts ?? []).map((s: PgNode) => ({ stmt: s.stmt, location: s.stmt_location ?? 0, len: s.stmt_len ?? 0 }));
  } catch (e) {
    const details = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const msg = e instanceof Error ? e.message : String(e);
    throw new DbError(SqlState.SyntaxError, msg, { position: details?.cursorPosition !== undefined ? details.cursorPosition + 1 : undefined });
  }
}

export function parseSql(sql: string): Statement[] {
  const hit = cachedParse(sql);
  if (hit) return hit;
  const fast = ready ? fastParseInsert(sql, parseSync as (sql: string) => PgNode) : undefined;
  const out = fast !== undefined ? [fast] : parseWithLibpg(sql);
  rememberParse(sql, out);
  return out;
}

/** `parseSql` without the cache and the literal-INSERT fast path (fast-insert-parse.ts). */
export function parseWithLibpg(sql: string): Statement[] {
  const out: Statement[] = [];
  // libpg-query reports statement offsets in UTF-8 bytes: map them to string offsets
  const toChar = /[^\x00-\x7f]/.test(sql) ? byteToCharOffset(sql) : (b: number) => b;
  for (const s of parseRaw(sql)) {
    const from = toChar(s.location);
    const text = s.len > 0 ? sql.slice(from, toChar(s.location + s.len)) : sql.slice(from);
    out.push(translate(s.stmt, text.trim()));
  }
  return out;
}

/** UTF-8 byte offset → string offset, for offsets asked in increasing order (one walk). */
function byteToCharOffset(sql: string): (byte: number) => number {
  let b = 0, c = 0; // byte offset b is string offset c
  return (byte: number) => {
    if (byte < b) { b = 0; c = 0; }
    while (b < byte && c < sql.length) {
      const u = sql.charCodeAt(c);
      if (u < 0x80) { b += 1; c += 1; } else if (u < 0x800) { b += 2; c += 1; } else if (u >= 0xd800 && u <= 0xdbff && (sql.charCodeAt(c + 1) & 0xfc00) === 0xdc00) {
        b += 4; c += 2;
      } else { b += 3; c += 1; } // a lone surrogate is encoded as U+FFFD: 3 bytes
    }
    return c;
  };
}

export function rangeVarName(rv: PgNode): QualifiedName {
  return rv.schemaname ? { schema: rv.schemaname, name: rv.relname } : { name: rv.relname };
}

function listName(items: PgNode[]): QualifiedName {
  const parts = items.map((i: PgNode) => i.String.sval as string);
  return parts.length > 1 ? { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! } : { name: parts[0]! };
}

function constText(n: PgNode): string {
  const c = n.A_Const;
  if (c) {
    if (c.sval) return c.sval.sval ?? '';
    if (c.ival) return String(c.ival.ival ?? 0);
    if (c.fval) return c.fval.fval;
    if (c.boolval) return c.boolval.boolval ? 'on' : 'off';
  }
  if (n.TypeCast) return constText(n.TypeCast.arg);
  if (n.String) return n.String.sval;
  return '';
}

function txnOptions(opts: PgNode[] | undefined): { isolation?: IsolationLevel; readOnly?: boolean; deferrable?: boolean } {
  const r: { isolation?: IsolationLevel; readOnly?: boolean; deferrable?: boolean } = {};
  for (const o of opts ?? []) {
    const d = o.DefElem;
    if (d.defname === 'transaction_isolation') r.isolation = constText(d.arg) as IsolationLevel;
    else if (d.defname === 'transaction_read_only') r.readOnly = constText(d.arg) === '1';
    else if (d.defname === 'transaction_deferrable') r.deferrable = constText(d.arg) === '1';
  }
  return r;
}

function translate(node: PgNode, sql: string): Statement {
  const [type] = Object.keys(node);
  const n = node[type!];
  switch (type) {
    case 'TransactionStmt':
      switch (n.kind) {
        case 'TRANS_STMT_BEGIN': case 'TRANS_STMT_START': return { kind: 'begin', sql, ...txnOptions(n.options) };
        case 'TRANS_STMT_COMMIT': return { kind: 'commit', sql };
        case 'TRANS_STMT_ROLLBACK': return { kind: 'rollback', sql };
        case 'TRANS_STMT_SAVEPOINT': return { kind: 'savepoint', sql, name: n.savepoint_name };
        case 'TRANS_STMT_RELEASE': return { kind: 'release', sql, name: n.savepoint_name };
        case 'TRANS_STMT_ROLLBACK_TO': return { kind: 'rollbackTo', sql, name: n.savepoint_name };
        default: throw new DbError(SqlState.FeatureNotSupported, `unsupported transaction statement ${n.kind}`);
      }
    case 'VariableSetStmt':
      if (n.kind === 'VAR_SET_MULTI' && n.name === 'TRANSACTION') {
        const o = txnOptions(n.args);
        return { kind: 'setTransaction', sql, ...(o.isolation ? { isolation: o.isolation } : {}), ...(o.readOnly !== undefined ? { readOnly: o.readOnly } : {}) };
      }
      if (n.kind === 'VAR_RESET' || n.kind === 'VAR_RESET_ALL') return { kind: 'reset', sql, name: n.name ?? 'all' };
      if (n.kind === 'VAR_SET_DEFAULT') return { kind: 'set', sql, name: n.name, value: null, local: !!n.is_local };
      if (n.kind === 'VAR_SET_VALUE') {
        return { kind: 'set', sql, name: n.name, value: (n.args ?? []).map(constText).join(', '), local: !!n.is_local };
      }
      throw new DbError(SqlState.FeatureNotSupported, `unsupported SET form`);
    case 'VariableShowStmt': return { kind: 'show', sql, name: n.name };
    case 'CheckPointStmt': return { kind: 'checkpoint', sql };
    case 'LockStmt':
      return { kind: 'lock', sql, tables: (n.relations ?? []).map((r: PgNode) => rangeVarName(r.RangeVar)), mode: LOCK_MODES[(n.mode ?? 8) - 1]!, nowait: !!n.nowait };
    case 'VacuumStmt': {
      const rel = n.rels?.[0]?.VacuumRelation?.relation;
      const table = rel ? rangeVarName(rel) : undefined;
      if (n.is_vacuumcmd) return table ? { kind: 'vacuum', sql, table } : { kind: 'vacuum', sql };
      return table ? { kind: 'analyze', sql, table } : { kind: 'analyze', sql };
    }
    default: return translateSql(type!, n, sql, node);
  }
}

function translateSql(type: string, n: PgNode, sql: string, node: PgNode): SqlStatement {
  switch (type) {
    case 'SelectStmt': return { kind: 'select', sql, node };
    case 'InsertStmt': return { kind: 'insert', sql, node: n };
    case 'UpdateStmt': return { kind: 'update', sql, node: n };
    case 'DeleteStmt': return { kind: 'delete', sql, node: n };
    case 'CreateStmt': return { kind: 'createTable', sql, node: n };
    case 'CreateTableAsStmt': return { kind: 'createTableAs', sql, node: n };
    case 'ViewStmt': return { kind: 'createView', sql, node: n };
    case 'IndexStmt': return { kind: 'createIndex', sql, node: n };
    case 'DropStmt': {
      const ifExists = !!n.missing_ok;
      if (n.removeType === 'OBJECT_SCHEMA') {
        return { kind: 'dropSchema', sql, names: (n.objects ?? []).map((o: PgNode) => o.String.sval as string), ifExists, cascade: n.behavior === 'DROP_CASCADE' };
      }
      const names = (n.objects ?? []).map((o: PgNode) => listName(o.List.items));
      if (n.removeType === 'OBJECT_TABLE') return { kind: 'dropTable', sql, names, ifExists, cascade: n.behavior === 'DROP_CASCADE' };
      if (n.removeType === 'OBJECT_VIEW') return { kind: 'dropView', sql, names, ifExists };
      if (n.removeType === 'OBJECT_INDEX') return { kind: 'dropIndex', sql, names, ifExists };
      if (n.removeType === 'OBJECT_SEQUENCE') return { kind: 'dropSequence', sql, names, ifExists };
      throw new DbError(SqlState.FeatureNotSupported, `DROP ${String(n.removeType).replace('OBJECT_', '')} is not supported`);
    }
    case 'AlterTableStmt': return { kind: 'alterTable', sql, node: n };
    case 'CreateSeqStmt': return { kind: 'createSequence', sql, node: n };
    case 'AlterSeqStmt': return { kind: 'alterSequence', sql, node: n };
    case 'RenameStmt': return { kind: 'rename', sql, node: n };
    case 'TruncateStmt': return { kind: 'truncate', sql, names: (n.relations ?? []).map((r: PgNode) => rangeVarName(r.RangeVar)) };
    case 'CreateSchemaStmt': return { kind: 'createSchema', sql, name: n.schemaname as string, ifNotExists: !!n.if_not_exists };
    case 'ExplainStmt': {
      const analyze = (n.options ?? []).some((o: PgNode) => o.DefElem?.defname === 'analyze' && constText(o.DefElem.arg ?? { String: { sval: 'on' } }) !== 'off' && constText(o.DefElem.arg ?? { String: { sval: 'on' } }) !== 'false');
      const inner = translate(n.query, sql.replace(/^\s*explain\s+(analyze\s+)?/i, ''));
      if (inner.kind === 'explain' || !('node' in inner || inner.kind.startsWith('drop'))) {
        throw new DbError(SqlState.FeatureNotSupported, 'EXPLAIN of this statement is not supported');
      }
      return { kind: 'explain', sql, analyze, statement: inner as SqlStatement };
    }
    default:
      throw new DbError(SqlState.FeatureNotSupported, `statement ${type.replace(/Stmt$/, '')} is not supported`);
  }
}
