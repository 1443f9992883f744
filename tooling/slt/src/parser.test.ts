import { describe, expect, it } from 'vitest';
import { conditionsAllow, parseScript } from './parser.js';
import type { QueryRecord, StatementRecord } from './record.js';

const SCRIPT = `# name: test/sql/example.slt
# description: header comments are comments

hash-threshold 8

statement ok
CREATE TABLE t1(a INTEGER, b INTEGER)

skipif mysql # comment after the engine
onlyif postgresql
statement error 42P01 con2
SELECT * FROM missing

query IT rowsort label-7 con1
SELECT a,
       b FROM t1
----
1
x
2
(empty)

query I nosort
SELECT 1 WHERE false

statement error
SELECT boom
----
42601

onlyif mssql
halt

query R valuesort
SELECT 1.5
----
1.500
`;

describe('parseScript', () => {
  const script = parseScript(SCRIPT, 'example.slt');
  const kinds = script.records.map((r) => r.kind);

  it('finds every record in order', () => {
    expect(kinds).toEqual(['hash-threshold', 'statement', 'statement', 'query', 'query', 'statement', 'halt', 'query']);
  });

  it('reads statement headers: mode, SQLSTATE, connection, conditions', () => {
    const st = script.records[2] as StatementRecord;
    expect(st.expect).toBe('error');
    expect(st.errorCode).toBe('42P01');
    expect(st.connection).toBe('con2');
    expect(st.conditions).toEqual([
      { kind: 'skipif', engine: 'mysql' },
      { kind: 'onlyif', engine: 'postgresql' },
    ]);
    expect(st.sql).toBe('SELECT * FROM missing');
    expect(st.startLine).toBe(9);
  });

  it('reads query headers, multi-line SQL and results', () => {
    const q = script.records[3] as QueryRecord;
    expect(q.types).toBe('IT');
    expect(q.sortMode).toBe('rowsort');
    expect(q.label).toBe('label-7');
    expect(q.connection).toBe('con1');
    expect(q.sql).toBe('SELECT a,\n       b FROM t1');
    expect(q.expected).toEqual(['1', 'x', '2', '(empty)']);
    expect(q.resultLine).toBe(17);
    expect(q.endLine).toBe(21);
  });

  it('accepts a query without a result block', () => {
    const q = script.records[4] as QueryRecord;
    expect(q.expected).toEqual([]);
    expect(q.resultLine).toBeUndefined();
    expect(q.sortMode).toBe('nosort');
  });

  it('reads a DuckDB-style expected error block', () => {
    const st = script.records[5] as StatementRecord;
    expect(st.errorCode).toBeUndefined();
    expect(st.expectedError).toBe('42601');
  });

  it('keeps conditions on halt', () => {
    const h = script.records[6]!;
    expect(conditionsAllow(h.conditions, 'postgresql')).toBe(false);
    expect(conditionsAllow(h.conditions, 'mssql')).toBe(true);
  });

  it('turns unknown directives into unsupported records and goes on', () => {
    const s = parseScript('require parquet\n\nload x\n\nquery I\nSELECT 1\n----\n1\n');
    expect(s.records.map((r) => r.kind)).toEqual(['unsupported', 'unsupported', 'query']);
  });

  it('handles CRLF line ends and a missing trailing newline', () => {
    const s = parseScript('statement ok\r\nCREATE TABLE t\r\n\r\nquery I\r\nSELECT 1\r\n----\r\n1');
    expect(s.records.map((r) => r.kind)).toEqual(['statement', 'query']);
    expect((s.records[1] as QueryRecord).expected).toEqual(['1']);
  });
});

describe('conditionsAllow', () => {
  it('skipif skips only the named engine; onlyif runs only there', () => {
    expect(conditionsAllow([{ kind: 'skipif', engine: 'postgresql' }], 'postgresql')).toBe(false);
    expect(conditionsAllow([{ kind: 'skipif', engine: 'mysql' }], 'postgresql')).toBe(true);
    expect(conditionsAllow([{ kind: 'onlyif', engine: 'sqlite' }], 'postgresql')).toBe(false);
    expect(conditionsAllow([], 'postgresql')).toBe(true);
  });
});
