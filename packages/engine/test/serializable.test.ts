import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('SERIALIZABLE', () => {
  it('aborts one side of a write skew with 40001; REPEATABLE READ lets both commit', async () => {
    for (const level of ['SERIALIZABLE', 'REPEATABLE READ']) {
      const db = await Database.open(':memory:');
      const a = db.connect();
      const b = db.connect();
      await a.query('CREATE TABLE doctors (name TEXT PRIMARY KEY, on_call BOOLEAN)');
      await a.query("INSERT INTO doctors VALUES ('alice', true), ('bob', true)");
      await a.query(`BEGIN ISOLATION LEVEL ${level}`);
      await b.query(`BEGIN ISOLATION LEVEL ${level}`);
      expect((await a.query('SELECT count(*) FROM doctors WHERE on_call')).rows).toEqual([[2n]]);
      expect((await b.query('SELECT count(*) FROM doctors WHERE on_call')).rows).toEqual([[2n]]);
      await a.query("UPDATE doctors SET on_call = false WHERE name = 'alice'");
      const codes: string[] = [];
      const attempt = async (p: Promise<unknown>) => { try { await p; codes.push('ok'); } catch (e) { codes.push((e as { code: string }).code); } };
      await attempt(b.query("UPDATE doctors SET on_call = false WHERE name = 'bob'"));
      await attempt(a.query('COMMIT'));
      await attempt(b.query('COMMIT'));
      if (level === 'SERIALIZABLE') expect(codes).toContain('40001');
      else expect(codes).toEqual(['ok', 'ok', 'ok']);
      const left = (await a.query('SELECT count(*) FROM doctors WHERE on_call')).rows[0]![0];
      expect(left).toBe(level === 'SERIALIZABLE' ? 1n : 0n);
      await db.close();
    }
  });
});
