/**
 * DDL that rebuilds or drops an index (ALTER COLUMN TYPE, DROP COLUMN, DROP CONSTRAINT) is undone
 * with the transaction: after ROLLBACK / ROLLBACK TO SAVEPOINT / a failed statement, the index the
 * committed catalog describes is the one lookups and uniqueness checks use.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

async function setup() {
  const db = await Database.open(':memory:');
  const c = db.connect();
  await c.query('CREATE TABLE u (id INTEGER PRIMARY KEY, s TEXT UNIQUE, v INTEGER)');
  await c.query("INSERT INTO u VALUES (1, '10', 1), (2, '20', 2), (3, 'x30', 3)");
  return { db, c };
}

describe('index registry follows transactional DDL', () => {
  it('ROLLBACK of ALTER COLUMN TYPE keeps the old index usable', async () => {
    const { db, c } = await setup();
    await c.query("UPDATE u SET s = '30' WHERE id = 3");
    await c.query('BEGIN');
    await c.query('ALTER TABLE u ALTER COLUMN s TYPE INTEGER USING s::integer');
    expect((await c.query('SELECT id FROM u WHERE s = 20')).rows).toEqual([[2]]);
    await c.query('ROLLBACK');
    expect((await c.query("SELECT id FROM u WHERE s = '20'")).rows).toEqual([[2]]);
    await expect(c.query("INSERT INTO u VALUES (4, '10', 4)")).rejects.toMatchObject({ code: '23505' });
    await c.query("INSERT INTO u VALUES (4, '40', 4)");
    expect((await c.query("SELECT count(*) FROM u WHERE s >= '20'")).rows).toEqual([[3n]]);
    await db.close();
  });

  it('ROLLBACK TO SAVEPOINT undoes DROP COLUMN of an indexed column and DROP CONSTRAINT', async () => {
    const { db, c } = await setup();
    await c.query('BEGIN');
    await c.query('SAVEPOINT a');
    await c.query('ALTER TABLE u DROP COLUMN s');
    await c.query('ROLLBACK TO SAVEPOINT a');
    await c.query('ALTER TABLE u DROP CONSTRAINT u_s_key');
    await c.query('ROLLBACK TO SAVEPOINT a');
    await c.query('COMMIT');
    await expect(c.query("INSERT INTO u VALUES (5, '20', 5)")).rejects.toMatchObject({ code: '23505' });
    expect((await c.query("SELECT v FROM u WHERE s = 'x30'")).rows).toEqual([[3]]);
    await db.close();
  });
});
