import { describe, expect, it } from 'vitest';
import { commandTag, formatCsv, formatJson, formatMarkdown, formatNdjson, formatTable } from './format-result.js';
import type { ResultLike } from './format-result.js';

const r: ResultLike = {
  columns: [
    { name: 'id', type: 'INTEGER' },
    { name: 'name', type: 'TEXT' },
    { name: 'big', type: 'BIGINT' },
  ],
  rows: [
    [1, 'ann', 9007199254740993n],
    [22, null, -1n],
    [3, 'a,"b"\nc', 0n],
  ],
  rowCount: 3,
  command: 'SELECT',
};

describe('formatters', () => {
  it('table: aligned, numbers right-aligned, NULL shown, row count footer', () => {
    expect(formatTable(r)).toBe(
      [
        ' id | name     | big',
        '----+----------+------------------',
        '  1 | ann      | 9007199254740993',
        ' 22 | NULL     |               -1',
        '  3 | a,"b"\\nc |                0',
        '(3 rows)',
        '',
      ].join('\n'),
    );
  });

  it('table: command tags for statements without columns', () => {
    expect(formatTable({ columns: [], rows: [], rowCount: 0, command: 'CREATE TABLE' })).toBe('CREATE TABLE\n');
    expect(commandTag({ columns: [], rows: [], rowCount: 3, command: 'INSERT' })).toBe('INSERT 0 3');
    expect(commandTag({ columns: [], rows: [], rowCount: 2, command: 'DELETE' })).toBe('DELETE 2');
  });

  it('csv: RFC 4180 quoting, NULL as an empty field, empty string quoted', () => {
    expect(formatCsv(r)).toBe('id,name,big\r\n1,ann,9007199254740993\r\n22,,-1\r\n3,"a,""b""\nc",0\r\n');
    expect(formatCsv({ ...r, rows: [[1, '', 2n]] })).toBe('id,name,big\r\n1,"",2\r\n');
    expect(formatCsv({ columns: [], rows: [], rowCount: 1, command: 'INSERT' })).toBe('');
  });

  it('json and ndjson: row objects, bigint digits kept, null', () => {
    const json = formatJson(r);
    expect(json).toContain('{"id":1,"name":"ann","big":9007199254740993}');
    expect(JSON.parse(json)).toHaveLength(3);
    const lines = formatNdjson(r).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[1]!)).toEqual({ id: 22, name: null, big: -1 });
    expect(formatJson({ ...r, rows: [] })).toBe('[]\n');
  });

  it('markdown: header, alignment row, escaped pipes', () => {
    const md = formatMarkdown({ ...r, rows: [[1, 'a|b', 2n]] });
    expect(md).toBe('| id | name | big |\n| ---: | --- | ---: |\n| 1 | a\\|b | 2 |\n');
  });
});
