/**
 * The literal-INSERT fast path against libpg-query: seeded random statements must parse to the
 * same Statement (deep-equal, locations included), and texts outside its subset must fall back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSync } from 'libpg-query';
import { seededRandom } from '@quiverdb/common';
import { initSql, parseSql, parseWithLibpg } from './parse.js';
import { fastParseInsert, fastValuesOf } from './fast-insert-parse.js';
import type { PgNode } from './statement.js';

const raw = parseSync as (sql: string) => PgNode;

beforeAll(async () => { await initSql(); });

function generator(seed: number) {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ws = () => pick([' ', ' ', ' ', '', '  ', '\n', '\t', ' \r\n ', '\f']);
  const digits = (k: number) => { let s = ''; for (let i = 0; i < k; i++) s += String(Math.floor(rand() * 10)); return s; };
  const number = (): string => {
    switch (Math.floor(rand() * 10)) {
      case 0: return pick(['0', '00', '2147483647', '2147483648', '4294967296', '9223372036854775807', '9223372036854775808', '000000000000007']);
      case 1: return digits(1 + Math.floor(rand() * 25));
      case 2: return `${digits(1 + Math.floor(rand() * 6))}.${digits(Math.floor(rand() * 6))}`;
      case 3: return `.${digits(1 + Math.floor(rand() * 5))}`;
      case 4: return `${digits(1 + Math.floor(rand() * 3))}${pick(['e', 'E'])}${pick(['', '+', '-'])}${digits(1 + Math.floor(rand() * 3))}`;
      case 5: return `${digits(1 + Math.floor(rand() * 3))}.${digits(Math.floor(rand() * 3))}e${pick(['', '-'])}${digits(1 + Math.floor(rand() * 2))}`;
      default: return String(Math.floor(rand() * 100000));
    }
  };
  const chars = ['a', 'b', 'Z', ' ', "''", '\\', '\\n', 'é', '€', '😀', '"', ',', ')', '(', ';', '--', '/*', '$$', '\n'];
  const literal = (): string => {
    switch (Math.floor(rand() * 6)) {
      case 0: case 1: return number();
      case 2: return `-${pick(['', '', ' ', '\n '])}${number()}`;
      case 3: { let s = ''; const k = Math.floor(rand() * 8); for (let i = 0; i < k; i++) s += pick(chars); return `'${s}'`; }
      case 4: return rand() < 0.5 ? `$${1 + Math.floor(rand() * (rand() < 0.1 ? 999999 : 20))}` : pick(['NULL', 'true']);
      default: return pick(['NULL', 'null', 'Null', 'TRUE', 'true', 'FALSE', 'false', 'fAlSe']);
    }
  };
  const header = (): string => {
    const table = pick(['kv', 'KV', 'public.kv', '"Mixed Case"', 's."t-1"', 'orders', 'key', '"été"', 'x_1$']);
    const cols = pick(['', ' (a)', '(a, b)', ' ("A", b, "c d")', ' (name, value)', '("é")']);
    return `${pick(['', ' ', '\n  '])}${pick(['INSERT', 'insert', 'Insert'])} ${pick(['INTO', 'into'])}${ws() || ' '}${table}${cols}${ws() || ' '}${pick(['VALUES', 'values'])}`;
  };
  return (): string => {
    const rows = 1 + Math.floor(rand() * 5);
    const width = 1 + Math.floor(rand() * 5);
    const lists: string[] = [];
    for (let r = 0; r < rows; r++) {
      const items: string[] = [];
      // occasionally a list of another width: libpg-query accepts it (the binder rejects it)
      const w = rand() < 0.05 ? width + 1 : width;
      for (let c = 0; c < w; c++) items.push(`${ws()}${literal()}${ws()}`);
      lists.push(`(${items.join(',')})`);
    }
    return `${header()}${ws()}${lists.join(`${ws()},${ws()}`)}${pick(['', ';', ' ;', '; ', ';\n'])}${pick(['', ' ', '\n'])}`;
  };
}

describe('fast literal INSERT parse', () => {
  it('equals the libpg-query parse on seeded random statements', () => {
    const next = generator(20261125);
    let fast = 0;
    for (let i = 0; i < 4000; i++) {
      const sql = next();
      const got = fastParseInsert(sql, raw);
      const want = parseWithLibpg(sql);
      // every generated text is in the fast path's subset
      expect(got, sql).toBeDefined();
      expect(want.length).toBe(1);
      expect(got, sql).toEqual(want[0]);
      fast++;
    }
    expect(fast).toBe(4000);
  });

  it('keeps literal typing: int4 ival, larger integers and decimals fval, negation as doNegate', () => {
    const s = fastParseInsert("INSERT INTO t VALUES (0, -0, 2147483647, 2147483648, -2147483648, 1.50, '', 'a''b', NULL, false)", raw);
    const items = s!.kind === 'insert' ? s!.node.selectStmt.SelectStmt.valuesLists[0].List.items.map((x: PgNode) => {
      const { location: _l, ...rest } = x.A_Const;
      return rest;
    }) : [];
    expect(items).toEqual([
      { ival: {} }, { ival: {} }, { ival: { ival: 2147483647 } }, { fval: { fval: '2147483648' } },
      { fval: { fval: '-2147483648' } }, { fval: { fval: '1.50' } }, { sval: { sval: '' } }, { sval: { sval: "a'b" } },
      { isnull: true }, { boolval: {} },
    ]);
  });

  it('falls back to libpg-query outside its subset, with the same result or error', () => {
    const texts = [
      "INSERT INTO t VALUES (E'a\\nb')", "INSERT INTO t VALUES ('a'::text)", 'INSERT INTO t VALUES ($1, 2)',
      'INSERT INTO t VALUES (1) -- c', 'INSERT INTO t VALUES (/* c */ 1)', 'INSERT INTO t VALUES (0x1F)',
      'INSERT INTO t VALUES (1_000)', "INSERT INTO t VALUES ('a'\n'b')", "INSERT INTO t VALUES ('a' 'b')",
      'INSERT INTO t VALUES (DEFAULT)', 'INSERT INTO t VALUES (1 + 2)', 'INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING',
      'INSERT INTO t VALUES (1) RETURNING a', 'INSERT INTO t VALUES (1); SELECT 1', 'INSERT INTO t VALUES ($$x$$)',
      'INSERT INTO t VALUES (--1)', 'INSERT INTO t VALUES (+1)', 'INSERT INTO t VALUES (- - 1)', 'INSERT INTO t VALUES ((1))',
      'INSERT INTO t VALUES (1e)', 'INSERT INTO t VALUES (12abc)', 'INSERT INTO t VALUES (1.2.3)', 'INSERT INTO t VALUES ()',
      "INSERT INTO t VALUES ('unterminated)", 'INSERT INTO t VALUES (1', 'INSERT INTO t VALUES (1),', 'INSERT INTO t VALUES (nullx)',
      "INSERT INTO t VALUES (U&'d\\0061t')", "INSERT INTO t VALUES (B'101')", 'INSERT INTO select VALUES (1)',
      'INSERT INTO t AS x VALUES (1)', 'INSERT INTO t OVERRIDING SYSTEM VALUE VALUES (1)', 'WITH x AS (SELECT 1) INSERT INTO t VALUES (1)',
      'INSERT INTO t SELECT * FROM (VALUES (1)) v', 'INSERT INTO t VALUES (1) , (2) x', "INSERT INTO t VALUES ('\u{0}')",
      "INSERT INTO t VALUES ('\ud800')", 'INSERT INTO t (a, VALUES (1)', 'INSERT INTO t VALUES (1.)',
      'INSERT INTO t VALUES ($0)', 'INSERT INTO t VALUES ($01)', 'INSERT INTO t VALUES ($1x)', 'INSERT INTO t VALUES ($1::date)',
      'INSERT INTO t VALUES ($1234567)', 'INSERT INTO t VALUES ($)', 'INSERT INTO t VALUES ($1.5)',
    ];
    for (const sql of texts) {
      let want: unknown;
      let wantCode: unknown;
      try { want = parseWithLibpg(sql); } catch (e) { wantCode = (e as { code?: unknown }).code; }
      let got: unknown;
      let gotCode: unknown;
      try { got = parseSql(sql); } catch (e) { gotCode = (e as { code?: unknown }).code; }
      expect(gotCode, sql).toBe(wantCode);
      expect(got, sql).toEqual(want);
    }
    // the ones the fast path must not take (it would differ or accept an error)
    const inSubset = new Set(['INSERT INTO t AS x VALUES (1)', 'INSERT INTO t VALUES (1.)', 'INSERT INTO t VALUES ($1, 2)']);
    for (const sql of texts) {
      if (inSubset.has(sql)) expect(fastParseInsert(sql, raw), sql).toEqual(parseWithLibpg(sql)[0]);
      else expect(fastParseInsert(sql, raw), sql).toBeUndefined();
    }
  });
});

/** The VALUES SelectStmt of a fast-parsed INSERT. */
const selectOf = (st: unknown): PgNode => (st as { node: PgNode }).node.selectStmt.SelectStmt;

describe('fast VALUES list (compact values)', () => {
  it('keeps the values compact, and makes the nodes only when read (then the same as libpg-query)', () => {
    const sql = "INSERT INTO t VALUES (1, -2.5e3, 'x''y', NULL, true), (2147483648, .5, '', false, -0)";
    const s = fastParseInsert(sql, raw)!;
    const sel = selectOf(s);
    const v = fastValuesOf(sel)!;
    expect(v.rows).toBe(2);
    expect(v.width).toBe(5);
    expect(v.params).toBe(false);
    expect(v.vals).toEqual([1, '-2.5e3', "x'y", null, true, '2147483648', '.5', '', false, -0]);
    expect(Object.getOwnPropertyDescriptor(sel, 'valuesLists')!.get).toBeDefined(); // not made yet
    expect(s).toEqual(parseWithLibpg(sql)[0]); // reading makes them
    expect(Object.getOwnPropertyDescriptor(sel, 'valuesLists')!.value).toBe(sel.valuesLists);
    // rows of different lengths: width -1 (the general path reports 42601)
    expect(fastValuesOf(selectOf(fastParseInsert('INSERT INTO t VALUES (1, 2), (3)', raw)))!.width).toBe(-1);
    expect(fastValuesOf(selectOf(fastParseInsert('INSERT INTO t VALUES ($1, 2)', raw)))!.params).toBe(true);
  });
});
