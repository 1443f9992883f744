import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database, type Connection } from '../src/index.js';
import * as Q from './psql-queries.js';

/**
 * psql's `\d` family run through the engine API, query by query, as psql 15 sends them to a
 * PostgreSQL 16 server (psql-queries.ts), asserting what psql would print from the answers.
 */
describe('psql \\d queries', () => {
  let db: Database;
  let c: Connection;
  let orders: number;
  let customers: number;
  const rows = async (sql: string) => (await c.query(sql)).rows;

  beforeAll(async () => {
    db = await Database.open(':memory:');
    c = db.connect();
    await c.query('CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(80) UNIQUE)');
    await c.query(`CREATE TABLE orders (id SERIAL PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      qty INTEGER NOT NULL DEFAULT 1 CHECK (qty > 0), price NUMERIC(10,2), note TEXT, UNIQUE (customer_id, note))`);
    await c.query('CREATE INDEX orders_price_desc ON orders (price DESC)');
    await c.query('CREATE VIEW big_orders AS SELECT id, qty FROM orders WHERE qty > 10');
    await c.query('CREATE SCHEMA sales');
    await c.query('CREATE TABLE sales.leads (id BIGINT PRIMARY KEY, name VARCHAR(20))');
    await c.query('CREATE TABLE sales."Odd Name" ("X" INTEGER)');
    const look = async (n: string) => {
      const r = await rows(Q.lookup(n));
      expect(r).toHaveLength(1);
      expect(r[0]!.slice(1)).toEqual(['public', n]);
      return r[0]![0] as number;
    };
    orders = await look('orders');
    customers = await look('customers');
  });
  afterAll(async () => {
    await db.close();
  });

  it('finds relations by pattern, only visible ones', async () => {
    expect(await rows(Q.lookup('leads'))).toEqual([]); // sales is not on the search path
    expect(await rows(Q.lookup('nosuch'))).toEqual([]);
    expect((await rows(Q.lookup('orders.*'))).map((r) => r[2])).toEqual(['orders', 'orders_customer_id_note_key', 'orders_id_seq', 'orders_pkey', 'orders_price_desc']);
  });

  it('table info: kind, checks, indexes, triggers (foreign keys), access method', async () => {
    const [r] = await rows(Q.tableInfo(orders));
    expect(r).toEqual([1, 'r', true, false, true, false, false, false, false, '', 0, '', 'p', 'd', 'heap']);
  });

  it('columns: types with modifiers, defaults, NOT NULL', async () => {
    expect(await rows(Q.columns(orders))).toEqual([
      ['id', 'integer', "nextval('orders_id_seq'::regclass)", true, null, '', ''],
      ['customer_id', 'integer', null, true, null, '', ''],
      ['qty', 'integer', '1', true, null, '', ''],
      ['price', 'numeric(10,2)', null, false, null, '', ''],
      ['note', 'text', null, false, null, '', ''],
    ]);
    expect((await rows(Q.columns(customers))).map((r) => r.slice(0, 2))).toEqual([['id', 'integer'], ['email', 'character varying(80)']]);
  });

  it('indexes with their constraints, primary key first', async () => {
    expect((await rows(Q.indexes(orders))).map((r) => r.slice(0, 8))).toEqual([
      ['orders_pkey', true, true, false, true, 'CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)', 'PRIMARY KEY (id)', 'p'],
      ['orders_customer_id_note_key', false, true, false, true, 'CREATE UNIQUE INDEX orders_customer_id_note_key ON public.orders USING btree (customer_id, note)',
        'UNIQUE (customer_id, note)', 'u'],
      ['orders_price_desc', false, false, false, true, 'CREATE INDEX orders_price_desc ON public.orders USING btree (price DESC)', null, null],
    ]);
  });

  it('check constraints, foreign keys, referenced by', async () => {
    expect(await rows(Q.checks(orders))).toEqual([['orders_check', 'CHECK (qty > 0)']]);
    const fk = 'FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE';
    expect(await rows(Q.foreignKeys(orders))).toEqual([[true, 'orders_customer_id_fkey', fk, 'orders']]);
    expect(await rows(Q.referencedBy(customers))).toEqual([['orders_customer_id_fkey', 'orders', fk]]);
    expect(await rows(Q.referencedBy(orders))).toEqual([]);
  });

  it('the footers QuiverDB has nothing for answer with no rows (policies, statistics, publications, triggers, inheritance)', async () => {
    for (const q of [Q.policies, Q.statistics, Q.publications, Q.triggers, Q.inheritsParents, Q.inheritsChildren]) {
      expect(await rows(q(orders))).toEqual([]);
    }
  });

  it('\\dt \\di \\dv \\dn \\l', async () => {
    expect(await rows(Q.listRelations(['r', 'p']))).toEqual([['public', 'customers', 'table', 'quiver'], ['public', 'orders', 'table', 'quiver']]);
    expect((await rows(Q.listRelations(['i', 'I']))).map((r) => [r[1], r[4]])).toEqual([
      ['customers_email_key', 'customers'], ['customers_pkey', 'customers'], ['orders_customer_id_note_key', 'orders'], ['orders_pkey', 'orders'],
      ['orders_price_desc', 'orders']]);
    expect(await rows(Q.listRelations(['v']))).toEqual([['public', 'big_orders', 'view', 'quiver']]);
    expect(await rows(Q.listSchemas)).toEqual([['public', 'quiver'], ['sales', 'quiver']]);
    expect((await rows(Q.listDatabases)).map((r) => r.slice(0, 3))).toEqual([['quiverdb', 'quiver', 'UTF8']]);
  });

  it('a view has its bound columns in pg_attribute and its definition from pg_get_viewdef', async () => {
    const [[oid]] = (await rows(Q.lookup('big_orders'))) as [[number]];
    expect((await rows(Q.columns(oid))).map((r) => r.slice(0, 2))).toEqual([['id', 'integer'], ['qty', 'integer']]);
    expect(await rows(`SELECT pg_catalog.pg_get_viewdef('${oid}'::pg_catalog.oid, true)`)).toEqual([['SELECT id, qty FROM orders WHERE qty > 10']]);
  });

  it('\\d of a serial sequence and of an index', async () => {
    const [[seq]] = (await rows(Q.lookup('orders_id_seq'))) as [[number]];
    expect((await rows(Q.tableInfo(seq)))[0]![1]).toBe('S');
    expect(await rows(Q.sequence(seq))).toEqual([['integer', 1n, 1n, 2147483647n, 1n, 'no', 1n]]);
    expect(await rows(Q.sequenceOwner(seq))).toEqual([['public.orders.id', 'a']]);
    const [[ix]] = (await rows(Q.lookup('orders_customer_id_note_key'))) as [[number]];
    expect((await rows(Q.tableInfo(ix)))[0]![1]).toBe('i');
    expect(await rows(Q.indexColumns(ix))).toEqual([['customer_id', 'integer', 'yes', 'customer_id'], ['note', 'text', 'yes', 'note']]);
    expect(await rows(Q.indexInfo(ix))).toEqual([[true, false, false, true, false, false, false, false, 'btree', 'orders', null]]);
  });

  it('every relation round-trips through regclass output and input', async () => {
    const all = await rows('SELECT oid, oid::regclass::text FROM pg_class');
    expect(all.length).toBeGreaterThan(60); // user relations and the system relations
    expect(all).toContainEqual([expect.any(Number), 'sales."Odd Name"']);
    expect(await rows('SELECT oid FROM pg_class WHERE oid::regclass::text::regclass <> oid')).toEqual([]);
    expect(new Set(all.map((r) => r[0])).size).toBe(all.length); // OIDs are unique
  });

  it('oids agree across relations and reg* casts', async () => {
    expect(await rows("SELECT 'orders'::regclass = " + orders + ", 'public.orders'::regclass::oid, " + orders + '::regclass'))
      .toEqual([[true, orders, 'orders']]);
    expect(await rows('SELECT count(*) FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid WHERE c.oid = ' + orders)).toEqual([[5n]]);
    expect(await rows(`SELECT c2.relname FROM pg_index i JOIN pg_class c2 ON c2.oid = i.indexrelid WHERE i.indrelid = 'orders'::regclass AND i.indisprimary`))
      .toEqual([['orders_pkey']]);
    expect(await rows("SELECT 'sales.leads'::regclass::text, to_regclass('nosuch'), 'pg_catalog.pg_class'::regclass > 0")).toEqual([['sales.leads', null, true]]);
    await expect(c.query("SELECT 'nosuch'::regclass")).rejects.toMatchObject({ code: '42P01' });
  });
});
