import { describe, expect, it } from 'vitest';
import { Database } from '../src/index.js';

describe('FOREIGN KEY', () => {
  it('rejects orphans, and RESTRICT / CASCADE / SET NULL on delete and update', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)');
    await c.query('CREATE TABLE r (id INTEGER, pid INTEGER REFERENCES p)');
    await c.query('CREATE TABLE k (id INTEGER, pid BIGINT REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE)');
    await c.query('CREATE TABLE n (id INTEGER, pid INTEGER, FOREIGN KEY (pid) REFERENCES p ON DELETE SET NULL ON UPDATE SET NULL)');
    await c.query("INSERT INTO p VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await expect(c.query('INSERT INTO r VALUES (1, 9)')).rejects.toMatchObject({ code: '23503' });
    await c.query('INSERT INTO r VALUES (1, 1), (2, NULL)');
    await c.query('INSERT INTO k VALUES (1, 2), (2, 2), (3, 3)');
    await c.query('INSERT INTO n VALUES (1, 3)');
    await expect(c.query('DELETE FROM p WHERE id = 1')).rejects.toMatchObject({ code: '23503' });
    expect((await c.query('SELECT count(*) FROM p')).rows).toEqual([[3n]]);
    await c.query('DELETE FROM p WHERE id = 2');
    expect((await c.query('SELECT id FROM k ORDER BY id')).rows).toEqual([[3]]);
    await c.query('UPDATE p SET id = 30 WHERE id = 3');
    expect((await c.query('SELECT id, pid FROM k')).rows).toEqual([[3, 30n]]);
    expect((await c.query('SELECT id, pid FROM n')).rows).toEqual([[1, null]]);
    await expect(c.query('UPDATE r SET pid = 5')).rejects.toMatchObject({ code: '23503' });
    await expect(c.query('DROP TABLE p')).rejects.toMatchObject({ code: '2BP01' });
    await expect(c.query('CREATE TABLE bad (x INTEGER REFERENCES r (id))')).rejects.toMatchObject({ code: '42830' });
    await c.query('ALTER TABLE r DROP CONSTRAINT r_pid_fkey');
    await c.query('INSERT INTO r VALUES (3, 99)');
    await expect(c.query('ALTER TABLE r ADD FOREIGN KEY (pid) REFERENCES p')).rejects.toMatchObject({ code: '23503' });
    await c.query('DROP TABLE p CASCADE');
    await c.query('INSERT INTO k VALUES (9, 12345)');
    await db.close();
  });

  it('a self-referencing table cascades down a tree', async () => {
    const db = await Database.open(':memory:');
    const c = db.connect();
    await c.query('CREATE TABLE node (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES node ON DELETE CASCADE)');
    await c.query('INSERT INTO node VALUES (1, NULL), (2, 1), (3, 2), (4, NULL)');
    await c.query('DELETE FROM node WHERE id = 1');
    expect((await c.query('SELECT id FROM node')).rows).toEqual([[4]]);
    await db.close();
  });

  it('a parent DELETE racing a child INSERT waits for it and then fails: no orphan', async () => {
    const db = await Database.open(':memory:');
    const a = db.connect();
    const b = db.connect();
    await a.query('CREATE TABLE p (id INTEGER PRIMARY KEY)');
    await a.query('CREATE TABLE c (id INTEGER, pid INTEGER REFERENCES p)');
    await a.query('INSERT INTO p VALUES (1)');
    await a.query('BEGIN');
    await a.query('INSERT INTO c VALUES (1, 1)');
    let settled = false;
    const del = b.query('DELETE FROM p WHERE id = 1').finally(() => { settled = true; });
    del.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    await a.query('COMMIT');
    await expect(del).rejects.toMatchObject({ code: '23503' });
    expect((await a.query('SELECT count(*) FROM c JOIN p ON c.pid = p.id')).rows).toEqual([[1n]]);
    await db.close();
  });
});
