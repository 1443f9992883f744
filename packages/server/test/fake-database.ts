/**
 * A tiny in-memory stand-in for the engine's Database, conforming to the contract of
 * ARCHITECTURE.md section 4, for protocol-level tests that must not depend on the real engine.
 *
 * Understands just enough SQL (case-insensitive, one statement per call or several separated by
 * ';' of which the last result is returned, like the engine):
 *   BEGIN | START TRANSACTION | COMMIT | END | ROLLBACK
 *   CREATE TABLE t (col TYPE, ...) | DROP TABLE t
 *   INSERT INTO t VALUES (v, ...), ...          v: number, 'text', $n, NULL, TRUE, FALSE
 *   SELECT * FROM t [WHERE col = v] [ORDER BY col]
 *   SELECT item, ...                            item: v[::TYPE] [AS name] | sleep(ms) | fail('CODE')
 *   SELECT n FROM generate(k)                   k rows 1..k (INTEGER)
 * Transactions snapshot all tables at BEGIN and restore them on ROLLBACK; any error inside a
 * block makes the status 'E' (25P02 until ROLLBACK), like PostgreSQL.
 */
import type { QueryResult, ResultColumn, ServerConnection, ServerDatabase, TransactionStatus } from '../src/contract.js';

export class FakeDbError extends Error {
  constructor(readonly code: string, message: string, readonly position?: number) {
    super(message);
  }
}

interface Table {
  columns: ResultColumn[];
  rows: unknown[][];
}

function coerce(v: unknown, type: string): unknown {
  if (v === null) return null;
  const t = type.toUpperCase();
  if (t === 'INTEGER' || t === 'SMALLINT') {
    const n = typeof v === 'string' ? Number(v) : Number(v);
    if (!Number.isInteger(n)) throw new FakeDbError('22P02', `invalid input syntax for type integer: "${String(v)}"`);
    return n;
  }
  if (t === 'BIGINT') return BigInt(v as string | number | bigint);
  if (t === 'DOUBLE PRECISION' || t === 'REAL') return t === 'REAL' ? Math.fround(Number(v)) : Number(v);
  if (t === 'BOOLEAN') return v === true || v === 't' || v === 'true';
  return typeof v === 'bigint' ? v.toString() : String(v);
}

function typeOfValue(v: unknown): string {
  if (typeof v === 'bigint') return 'BIGINT';
  if (typeof v === 'number') return Number.isInteger(v) ? 'INTEGER' : 'DOUBLE PRECISION';
  if (typeof v === 'boolean') return 'BOOLEAN';
  return 'TEXT';
}

function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (const c of s) {
    if (c === "'") quote = !quote;
    if (!quote && c === '(') depth++;
    if (!quote && c === ')') depth--;
    if (!quote && depth === 0 && c === sep) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

class FakeConnection implements ServerConnection {
  private status: TransactionStatus = 'I';
  private saved: Map<string, Table> | null = null;
  closed = false;
  constructor(private readonly db: FakeDatabase) {
    if (db.withDescribe) {
      this.describe = async (sql: string) => {
        this.db.describes.push(sql);
        const paramTypes: (string | null)[] = [];
        for (const m of sql.matchAll(/\$(\d+)::([A-Za-z]+(?: PRECISION)?)/g)) paramTypes[Number(m[1]) - 1] = m[2]!.toUpperCase();
        const w = /^SELECT \* FROM (\w+) WHERE (\w+)\s*=\s*\$(\d+)/i.exec(sql);
        if (w) paramTypes[Number(w[3]) - 1] = this.table(w[1]!, sql).columns.find((c) => c.name === w[2]!.toLowerCase())?.type ?? null;
        const n = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
        const columns = /^\s*SELECT/i.test(sql) ? (await this.one(sql, new Array<null>(n).fill(null))).columns : null;
        paramTypes.length = n;
        return { columns, paramTypes: Array.from(paramTypes, (t) => t ?? null) };
      };
    }
  }

  describe?: (sql: string) => Promise<{ columns: readonly ResultColumn[] | null; paramTypes: (string | null)[] }>;

  transactionStatus(): TransactionStatus {
    return this.status;
  }

  async close(): Promise<void> {
    if (this.closed) throw new Error('closed twice');
    this.closed = true;
    if (this.saved !== null) this.db.tables = this.saved;
    this.db.open--;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    this.db.queries.push(sql);
    this.db.lastParams = params;
    const stmts = splitTop(sql, ';').filter((s) => s.length > 0);
    if (stmts.length === 0) throw new FakeDbError('42601', 'empty query');
    let last: QueryResult | undefined;
    for (const s of stmts) {
      try {
        last = await this.one(s, params);
      } catch (err) {
        if (this.status === 'T') this.status = 'E';
        throw err;
      }
    }
    return last!;
  }

  private value(token: string, params: readonly unknown[]): unknown {
    const t = token.trim();
    if (/^\$\d+$/.test(t)) {
      const i = Number(t.slice(1));
      if (i > params.length) throw new FakeDbError('42P02', `there is no parameter $${i}`);
      return params[i - 1];
    }
    if (/^'.*'$/s.test(t)) return t.slice(1, -1).replace(/''/g, "'");
    if (/^null$/i.test(t)) return null;
    if (/^true$/i.test(t)) return true;
    if (/^false$/i.test(t)) return false;
    if (/^-?\d+$/.test(t)) return Number.isSafeInteger(Number(t)) ? Number(t) : BigInt(t);
    if (/^-?\d*\.\d+(e[+-]?\d+)?$/i.test(t)) return Number(t);
    throw new FakeDbError('42601', `syntax error at or near "${t}"`, 1);
  }

  private result(command: string, columns: ResultColumn[] = [], rows: unknown[][] = [], rowCount = rows.length): QueryResult {
    return { command, columns, rows, rowCount, toArrow: () => ({ columns, rows }) };
  }

  private async one(sql: string, params: readonly unknown[]): Promise<QueryResult> {
    const s = sql.trim();
    const upper = s.toUpperCase();
    if (upper === 'ROLLBACK' || upper === 'ABORT') {
      if (this.saved !== null) this.db.tables = this.saved;
      this.saved = null;
      this.status = 'I';
      return this.result('ROLLBACK');
    }
    if (upper === 'COMMIT' || upper === 'END') {
      if (this.saved !== null && this.status === 'E') this.db.tables = this.saved;
      this.saved = null;
      this.status = 'I';
      return this.result('COMMIT');
    }
    const probe = /^SELECT \* FROM \((.*)\) AS quiver_describe LIMIT 0$/is.exec(s);
    if (probe) {
      const inner = await this.one(probe[1]!, params);
      return this.result('SELECT', [...inner.columns], []);
    }
    if (this.status === 'E') throw new FakeDbError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
    if (upper === 'BEGIN' || upper === 'START TRANSACTION') {
      if (this.status === 'I') {
        this.saved = new Map([...this.db.tables].map(([k, t]) => [k, { columns: t.columns, rows: [...t.rows] }]));
        this.status = 'T';
      }
      return this.result('BEGIN');
    }
    let m = /^CREATE TABLE (\w+)\s*\((.*)\)$/is.exec(s);
    if (m) {
      const name = m[1]!.toLowerCase();
      if (this.db.tables.has(name)) throw new FakeDbError('42P07', `relation "${name}" already exists`);
      const columns = splitTop(m[2]!, ',').map((c) => {
        const [, col, type] = /^(\w+)\s+(.+?)(\s+NOT NULL|\s+PRIMARY KEY)*$/i.exec(c)!;
        return { name: col!.toLowerCase(), type: type!.toUpperCase() };
      });
      this.db.tables.set(name, { columns, rows: [] });
      return this.result('CREATE TABLE');
    }
    m = /^DROP TABLE (\w+)$/i.exec(s);
    if (m) {
      if (!this.db.tables.delete(m[1]!.toLowerCase())) throw new FakeDbError('42P01', `table "${m[1]}" does not exist`);
      return this.result('DROP TABLE');
    }
    m = /^INSERT INTO (\w+) VALUES\s*(.*)$/is.exec(s);
    if (m) {
      const t = this.table(m[1]!, s);
      const tuples = splitTop(m[2]!, ',').map((tuple) => splitTop(tuple.replace(/^\(|\)$/g, ''), ',').map((v) => this.value(v, params)));
      const rows = tuples.map((vals) => t.columns.map((c, i) => coerce(vals[i] ?? null, c.type)));
      t.rows.push(...rows);
      return this.result('INSERT', [], [], rows.length);
    }
    m = /^SELECT \* FROM (\w+)(?:\s+WHERE (\w+)\s*=\s*(.+?))?(?:\s+ORDER BY (\w+))?$/is.exec(s);
    if (m) {
      const t = this.table(m[1]!, s);
      let rows = t.rows;
      if (m[2] !== undefined) {
        const idx = t.columns.findIndex((c) => c.name === m![2]!.toLowerCase());
        if (idx < 0) throw new FakeDbError('42703', `column "${m[2]}" does not exist`, s.indexOf(m[2]!) + 1);
        const want = coerce(this.value(m[3]!, params), t.columns[idx]!.type);
        rows = rows.filter((r) => r[idx] === want);
      }
      if (m[4] !== undefined) {
        const idx = t.columns.findIndex((c) => c.name === m![4]!.toLowerCase());
        rows = [...rows].sort((a, b) => (a[idx]! < b[idx]! ? -1 : a[idx]! > b[idx]! ? 1 : 0));
      }
      return this.result('SELECT', t.columns, rows.map((r) => [...r]));
    }
    m = /^SELECT n FROM generate\((\d+|\$\d+)\)$/i.exec(s);
    if (m) {
      const k = Number(this.value(m[1]!, params));
      return this.result('SELECT', [{ name: 'n', type: 'INTEGER' }], Array.from({ length: k }, (_, i) => [i + 1]));
    }
    m = /^SELECT (.+)$/is.exec(s);
    if (m) {
      const columns: ResultColumn[] = [];
      const row: unknown[] = [];
      for (const item of splitTop(m[1]!, ',')) {
        const am = /^(.*?)(?:\s+AS\s+(\w+))?$/is.exec(item)!;
        const expr = am[1]!.trim();
        let name = am[2] ?? '?column?';
        let v: unknown;
        let type: string;
        const call = /^(sleep|fail)\((.*)\)$/i.exec(expr);
        if (call) {
          const arg = this.value(call[2]!, params);
          if (call[1]!.toLowerCase() === 'fail') throw new FakeDbError(String(arg), `failing with ${String(arg)}`, s.indexOf('fail') + 1);
          await new Promise((r) => setTimeout(r, Number(arg)));
          v = Number(arg);
          type = 'INTEGER';
          if (am[2] === undefined) name = 'sleep';
        } else {
          const cm = /^(.*?)::([\w ]+(?:\(\d+(?:,\d+)?\))?)$/s.exec(expr);
          v = this.value(cm ? cm[1]! : expr, params);
          type = cm ? cm[2]!.toUpperCase() : typeOfValue(v);
          if (cm) v = coerce(v, type.replace(/\(.*$/, ''));
        }
        columns.push({ name, type });
        row.push(v);
      }
      return this.result('SELECT', columns, [row]);
    }
    throw new FakeDbError('42601', `syntax error at or near "${s.split(/\s+/)[0]}"`, 1);
  }

  private table(name: string, sql: string): Table {
    const t = this.db.tables.get(name.toLowerCase());
    if (t === undefined) throw new FakeDbError('42P01', `relation "${name}" does not exist`, sql.indexOf(name) + 1);
    return t;
  }
}

export class FakeDatabase implements ServerDatabase {
  tables = new Map<string, Table>();
  queries: string[] = [];
  describes: string[] = [];
  lastParams: readonly unknown[] = [];
  /** give connections a `describe()` (parameter types from `$n::TYPE` and `WHERE col = $n`) */
  constructor(readonly withDescribe = false) {}
  open = 0;
  connect(): ServerConnection {
    this.open++;
    return new FakeConnection(this);
  }
  metrics(): unknown {
    return { bufferPool: { hits: 3, misses: 1 }, walBytes: 42 };
  }
}
