import { it } from 'vitest';
import { Database } from '../src/index.js';
it('probe', async () => {
  const db = await Database.open(':memory:');
  const c = db.connect(); const d = db.connect();
  await c.query('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, ver INTEGER NOT NULL)');
  await c.query(`INSERT INTO accounts VALUES ${Array.from({ length: 40 }, (_, i) => `(${i}, 1000, 0)`).join(', ')}`);
  let fails = 0;
  for (let i = 0; i < 50; i++) {
    try {
    await c.query(`BEGIN ISOLATION LEVEL SERIALIZABLE`);
    await d.query(`BEGIN ISOLATION LEVEL SERIALIZABLE`);
    await c.query('SELECT balance, ver FROM accounts WHERE id = 1');
    await d.query('SELECT balance, ver FROM accounts WHERE id = 3');
    await c.query('SELECT balance, ver FROM accounts WHERE id = 2');
    await d.query('SELECT balance, ver FROM accounts WHERE id = 4');
    await c.query('UPDATE accounts SET balance = $1, ver = $2 WHERE id = 1', [1000, i]);
    await d.query('UPDATE accounts SET balance = $1, ver = $2 WHERE id = 3', [1000, i]);
    await c.query('UPDATE accounts SET balance = $1, ver = $2 WHERE id = 2', [1000, i]);
    await d.query('UPDATE accounts SET balance = $1, ver = $2 WHERE id = 4', [1000, i]);
    await c.query('COMMIT');
    await d.query('COMMIT');
    } catch (e) { fails++; console.log(i, (e as Error).message); await c.query('ROLLBACK'); await d.query('ROLLBACK'); }
  }
  console.log('fails', fails);
  const ex = await c.query('EXPLAIN SELECT balance, ver FROM accounts WHERE id = 1');
  console.log(JSON.stringify(ex.rows));
  await db.close();
});
