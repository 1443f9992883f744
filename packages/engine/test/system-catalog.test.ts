import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('system catalogs', () => {
  it('describe tables, columns, constraints and indexes', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, price DOUBLE PRECISION, UNIQUE (name))');
    await c.query('CREATE INDEX items_price ON items (price DESC)');
    await c.query('CREATE VIEW cheap AS SELECT id FROM items WHERE price < 10');
    expect((await c.query("SELECT table_name, table_type FROM information_schema.tables ORDER BY table_name")).rows)
      .toEqual([['cheap', 'VIEW'], ['items', 'BASE TABLE']]);
    expect((await c.query("SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position")).rows)
      .toEqual([['id', 'integer', 'NO', null], ['name', 'character varying', 'NO', 20], ['price', 'double precision', 'YES', null]]);
    expect((await c.query("SELECT constraint_name, constraint_type FROM information_schema.table_constraints ORDER BY 1")).rows)
      .toEqual([['items_name_key', 'UNIQUE'], ['items_pkey', 'PRIMARY KEY']]);
    expect((await c.query("SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY 1")).rows)
      .toEqual([['items_name_key'], ['items_pkey'], ['items_price']]);
    expect((await c.query("SELECT relkind FROM pg_catalog.pg_class WHERE relname = 'items'")).rows).toEqual([['r']]);
    expect((await c.query("SELECT a.attname FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid WHERE c.relname = 'items' AND a.attnum > 0 ORDER BY a.attnum")).rows)
      .toEqual([['id'], ['name'], ['price']]);
    await expect(c.query("DELETE FROM pg_class")).rejects.toMatchObject({ code: '42501' });
    await db.close();
  });
});
