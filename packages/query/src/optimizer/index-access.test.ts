/**
 * Rule `index-scan` against the same queries with the rule off, on a MemoryCatalog whose tables
 * get a naive `indexLookup` / `fetch` (sort all rows by key): seeded random filters (equalities,
 * IN lists, ranges, NULLs, lossy constants) and ORDER BY ... LIMIT on index orders. Also checks
 * that the rule did fire, and the plan cache's invalidation. QUIVER_LONG=1 runs more queries.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnBatch } from '@quiverdb/common';
import { MemoryCatalog, MemoryTable, executeStatement, initSql, parseSql, resultRows } from '../index.js';
import type { Catalog, IndexDef, QualifiedName, SessionContext, TableSource } from '../index.js';
import { valuesToVector, vectorToValues } from '../types/values.js';
import { seededRandom } from '@quiverdb/common';

type Key = readonly unknown[];

function cmpVal(a: unknown, b: unknown, desc: boolean): number {
  // NULLS LAST for ASC, FIRST for DESC: in key order a NULL is greater than any value for ASC,
  // and (direction-independent marker) smaller for DESC
  if (a === null || b === null) {
    if (a === b) return 0;
    return a === null ? (desc ? -1 : 1) : (desc ? 1 : -1);
  }
  const c = (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  return desc ? -c : c;
}

/** Key order over the first min(len) columns (prefix semantics of bounds). */
function cmpKey(a: Key, b: Key, desc: readonly boolean[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) { const c = cmpVal(a[i], b[i], desc[i]!); if (c !== 0) return c; }
  return 0;
}

/** A MemoryTable with naive index access: every lookup sorts all live rows by the index key. */
class NaiveIndexed implements TableSource {
  constructor(readonly inner: MemoryTable) {}
  get def() { return this.inner.def; }
  stats() { return this.inner.stats(); }
  scan(req: Parameters<TableSource['scan']>[0]) { return this.inner.scan(req); }
  insert(b: ColumnBatch) { return this.inner.insert(b); }
  delete(ids: Float64Array) { return this.inner.delete(ids); }
  update(ids: Float64Array, b: ColumnBatch) { return this.inner.update(ids, b); }
  indexes(): readonly IndexDef[] { return this.inner.indexes(); }

  async #rows(): Promise<{ id: number; vals: unknown[] }[]> {
    const cols = this.def.columns.map((_c, i) => i);
    const out: { id: number; vals: unknown[] }[] = [];
    for await (const sb of this.inner.scan({ columns: cols, predicates: [], withRowIds: true })) {
      const b = sb.batch;
      // vector representation (what indexLookup receives)
      const vals = b.columns.map((v) => Array.from({ length: b.length }, (_x, r) => (v.validity && v.validity[r] === 0 ? null : (v.data as ArrayLike<unknown>)[r])));
      for (let r = 0; r < b.length; r++) out.push({ id: sb.rowIds![r]!, vals: vals.map((c) => c[r]) });
    }
    return out;
  }

  async indexLookup(index: string, low: Key | undefined, high: Key | undefined,
    opts: { lowInclusive: boolean; highInclusive: boolean; reverse?: boolean; limit?: number }): Promise<Float64Array> {
    const ix = this.indexes().find((i) => i.name === index)!;
    const desc = ix.columns.map((_c, k) => ix.descending?.[k] ?? false);
    const rows = (await this.#rows()).map((r) => ({ id: r.id, key: ix.columns.map((c) => r.vals[c]) }));
    rows.sort((a, b) => cmpKey(a.key, b.key, desc) || a.id - b.id);
    let hit = rows.filter((r) => {
      if (low) { const c = cmpKey(r.key, low, desc); if (c < 0 || (c === 0 && !opts.lowInclusive)) return false; }
      if (high) { const c = cmpKey(r.key, high, desc); if (c > 0 || (c === 0 && !opts.highInclusive)) return false; }
      return true;
    });
    if (opts.reverse) hit = hit.reverse();
    if (opts.limit !== undefined) hit = hit.slice(0, opts.limit);
    return Float64Array.from(hit.map((r) => r.id));
  }

  async fetch(rowIds: Float64Array, columns: readonly number[]): Promise<ColumnBatch> {
    const byId = new Map<number, unknown[]>();
    const cols = this.def.columns.map((_c, i) => i);
    for await (const sb of this.inner.scan({ columns: cols, predicates: [], withRowIds: true })) {
      const b = sb.batch;
      const vals = b.columns.map((v, i) => vectorToValues(v, b.length, this.def.columns[i]!.type));
      for (let r = 0; r < b.length; r++) byId.set(sb.rowIds![r]!, vals.map((c) => c[r]));
    }
    const picked = Array.from(rowIds, (id) => byId.get(id)!);
    return { length: picked.length, columns: columns.map((c) => valuesToVector(picked.map((row) => row[c]), this.def.columns[c]!.type)) };
  }
}

/** MemoryCatalog + naive index access + a version bumped on every DDL. */
class IndexedCatalog extends MemoryCatalog {
  #v = 1;
  readonly #wrapped = new WeakMap<TableSource, NaiveIndexed>();
  override getTable(name: QualifiedName): TableSource | undefined {
    const t = super.getTable(name);
    if (!(t instanceof MemoryTable)) return t;
    let w = this.#wrapped.get(t);
    if (!w) { w = new NaiveIndexed(t); this.#wrapped.set(t, w); }
    return w;
  }
  version(): number { return this.#v; }
  override async createIndex(...a: Parameters<Catalog['createIndex']>) { this.#v++; return super.createIndex(...a); }
  override async dropIndex(...a: Parameters<Catalog['dropIndex']>) { this.#v++; return super.dropIndex(...a); }
  override async createTable(...a: Parameters<Catalog['createTable']>) { this.#v++; return super.createTable(...a); }
  override async dropTable(...a: Parameters<Catalog['dropTable']>) { this.#v++; return super.dropTable(...a); }
}

async function setup(): Promise<{ run: (sql: string, settings?: Record<string, string>, params?: unknown[]) => Promise<unknown[][]>; catalog: IndexedCatalog }> {
  await initSql();
  const catalog = new IndexedCatalog();
  const run = async (sql: string, settings: Record<string, string> = {}, params: unknown[] = []): Promise<unknown[][]> => {
    const ctx: SessionContext = { catalog, params, settings: new Map(Object.entries(settings)), txnStartTime: new Date(0) };
    let rows: unknown[][] = [];
    for (const s of parseSql(sql)) rows = resultRows(await executeStatement(s, ctx));
    return rows;
  };
  return { run, catalog };
}

const OFF = { disable_rule_index_scan: 'on' };
const sortRows = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).sort();

describe('rule index-scan', () => {
  it('answers as without indexes (seeded random queries)', async () => {
    const { run } = await setup();
    await run('CREATE TABLE t(id INTEGER, a INTEGER, b BIGINT, c TEXT, d DOUBLE)');
    const r = seededRandom(42);
    const n = 400;
    const vals: string[] = [];
    const maybe = (v: string): string => (r() < 0.1 ? 'NULL' : v);
    for (let i = 0; i < n; i++) vals.push(`(${i}, ${maybe(String(Math.floor(r() * 8)))}, ${maybe(String(Math.floor(r() * 12)))}, ${maybe(`'s${Math.floor(r() * 15)}'`)}, ${maybe(String(Math.floor(r() * 50) / 4))})`);
    await run(`INSERT INTO t VALUES ${vals.join(', ')}`);
    await run('CREATE UNIQUE INDEX t_id ON t (id)');
    await run('CREATE INDEX t_a_b ON t (a, b)');
    await run('CREATE INDEX t_b_c ON t (b DESC, c)');
    await run('CREATE INDEX t_d ON t (d)');
    const num = (max: number): string => (r() < 0.08 ? `${Math.floor(r() * max)}.5` : r() < 0.04 ? 'NULL' : String(Math.floor(r() * max)));
    const atoms: (() => string)[] = [
      () => `id = ${num(n)}`, () => `id BETWEEN ${num(n)} AND ${num(n)}`, () => `id IN (${num(n)}, ${num(n)}, ${num(n)})`,
      () => `a = ${num(8)}`, () => `a IN (${num(8)}, ${num(8)})`, () => `b = ${num(12)}`, () => `b > ${num(12)}`, () => `b <= ${num(12)}`,
      () => `b BETWEEN ${num(12)} AND ${num(12)}`, () => `c = 's${Math.floor(r() * 15)}'`, () => `c >= 's${Math.floor(r() * 15)}'`,
      () => `d < ${num(12)}`, () => `d >= ${num(12)} AND d < ${num(12)}`, () => 'a IS NULL', () => 'b IS NOT NULL', () => `${num(8)} = a`,
    ];
    const orders = ['id', 'id DESC', 'a, b', 'a DESC, b DESC', 'b DESC, c', 'b, c DESC', 'd', 'd DESC', 'a NULLS FIRST', 'b DESC NULLS LAST'];
    const queries = process.env.QUIVER_LONG ? 3000 : 150;
    let used = 0;
    for (let q = 0; q < queries; q++) {
      const k = 1 + Math.floor(r() * 3);
      const where = Array.from({ length: k }, () => atoms[Math.floor(r() * atoms.length)]!()).join(' AND ');
      let sql: string;
      let ordered = false;
      if (r() < 0.35) {
        const o = orders[Math.floor(r() * orders.length)]!;
        const cols = o.split(',').map((x) => x.trim().split(' ')[0]).join(', ');
        sql = `SELECT ${cols} FROM t${r() < 0.5 ? ` WHERE ${where}` : ''} ORDER BY ${o} LIMIT ${1 + Math.floor(r() * 20)}${r() < 0.3 ? ` OFFSET ${Math.floor(r() * 5)}` : ''}`;
        ordered = true;
      } else sql = `SELECT * FROM t WHERE ${where}`;
      const plan = (await run(`EXPLAIN ${sql}`)).map((x) => String(x[0])).join('\n');
      if (plan.includes('Index Scan')) used++;
      const withIx = await run(sql);
      const without = await run(sql, OFF);
      if (ordered) expect(withIx, sql).toEqual(without);
      else expect(sortRows(withIx), sql).toEqual(sortRows(without));
    }
    // the comparison is not vacuous: most queries went through an index
    expect(used).toBeGreaterThan(queries * 0.4);
  });

  it('keeps plans per statement and re-plans after DDL (plan cache)', async () => {
    const { run } = await setup();
    await run('CREATE TABLE p(id INTEGER, v TEXT)');
    await run(`INSERT INTO p VALUES ${Array.from({ length: 300 }, (_x, i) => `(${i}, 'v${i}')`).join(', ')}`);
    const q = 'SELECT v FROM p WHERE id = $1';
    expect(await run(q, {}, [7])).toEqual([['v7']]);
    expect((await run(`EXPLAIN ${q}`)).join('\n')).not.toContain('Index Scan');
    await run('CREATE UNIQUE INDEX p_id ON p (id)');
    expect((await run(`EXPLAIN ${q}`)).join('\n')).toContain('Index Scan');
    expect(await run(q, {}, [8])).toEqual([['v8']]);
    await run('DROP INDEX p_id');
    // the cached index plan must not survive the index
    expect(await run(q, {}, [9])).toEqual([['v9']]);
    await run('DROP TABLE p');
    await run('CREATE TABLE p(id INTEGER, w INTEGER, v TEXT)');
    await run("INSERT INTO p VALUES (9, 1, 'new')");
    expect(await run(q, {}, [9])).toEqual([['new']]);
  });
});
