import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('column defaults', () => {
  it('evaluates constant and expression defaults such as now() at insert time', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query("CREATE TABLE ev (id INTEGER, at TIMESTAMP DEFAULT now(), kind TEXT DEFAULT 'x' || 'y', n INTEGER DEFAULT 2 * 21)");
    await c.query('INSERT INTO ev (id) VALUES (1)');
    const r = await c.query('SELECT at IS NOT NULL, kind, n FROM ev');
    expect(r.rows).toEqual([[true, 'xy', 42]]);
    await c.query('INSERT INTO ev VALUES (2, DEFAULT, DEFAULT, DEFAULT)');
    expect((await c.query('SELECT count(*) FROM ev WHERE kind = $1 AND n = 42', ['xy'])).rows).toEqual([[2n]]);
    await db.close();
  });
});
