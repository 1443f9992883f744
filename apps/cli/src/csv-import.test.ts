import { describe, expect, it } from 'vitest';
import { formatCsv } from './format-result.js';
import { importCsv, parseCsv } from './csv-import.js';
import type { CliConnection, CliResult } from './engine.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and line breaks; unquoted empty is null', () => {
    expect(parseCsv('a,b,c\r\n1,"x,""y""\nz",\n2,"",3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x,"y"\nz', null],
      ['2', '', '3'],
    ]);
  });

  it('accepts a missing final newline and ignores a blank last line', () => {
    expect(parseCsv('a\n1')).toEqual([['a'], ['1']]);
    expect(parseCsv('a\n1\n\n')).toEqual([['a'], ['1']]);
    expect(parseCsv('')).toEqual([]);
  });

  it('reads back what formatCsv writes', () => {
    const rows = [[1, 'plain', null], [2, 'with "quotes", commas\nand lines', '']];
    const csv = formatCsv({ columns: ['n', 's', 't'].map((name) => ({ name, type: 'TEXT' })), rows, rowCount: 2, command: 'SELECT' });
    expect(parseCsv(csv)).toEqual([['n', 's', 't'], ['1', 'plain', null], ['2', 'with "quotes", commas\nand lines', '']]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a\n"open')).toThrow(expect.objectContaining({ code: '22P04' }));
  });
});

describe('importCsv', () => {
  function recorder(fail?: string): { conn: CliConnection; calls: [string, unknown[] | undefined][] } {
    const calls: [string, unknown[] | undefined][] = [];
    const conn: CliConnection = {
      async query(sql, params) {
        calls.push([sql, params]);
        if (fail !== undefined && sql.startsWith(fail)) throw Object.assign(new Error('boom'), { code: '23505' });
        return { columns: [], rows: [], rowCount: 0, command: 'X', toArrow: () => { throw new Error('unused'); } } satisfies CliResult;
      },
      async close() {},
    };
    return { conn, calls };
  }

  it('inserts all rows with parameters inside one transaction', async () => {
    const { conn, calls } = recorder();
    expect(await importCsv(conn, 't', 'id,Name\n1,a\n2,\n')).toBe(2);
    expect(calls).toEqual([
      ['BEGIN', undefined],
      ['INSERT INTO t (id, "Name") VALUES ($1, $2), ($3, $4)', ['1', 'a', '2', null]],
      ['COMMIT', undefined],
    ]);
  });

  it('rolls back on an error and rethrows it', async () => {
    const { conn, calls } = recorder('INSERT');
    await expect(importCsv(conn, 't', 'id\n1\n')).rejects.toMatchObject({ code: '23505' });
    expect(calls.map((c) => c[0])).toEqual(['BEGIN', 'INSERT INTO t (id) VALUES ($1)', 'ROLLBACK']);
  });

  it('rejects ragged records before inserting anything', async () => {
    const { conn, calls } = recorder();
    await expect(importCsv(conn, 't', 'a,b\n1\n')).rejects.toMatchObject({ code: '22P04' });
    expect(calls).toEqual([]);
  });
});
