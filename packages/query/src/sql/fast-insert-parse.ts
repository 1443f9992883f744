/**
 * Fast path of the parser for `INSERT INTO <target> [(<cols>)] VALUES (<lit>, ...), ...` where
 * every value is a plain literal: bulk loads send thousands of rows of literals per statement, and
 * libpg-query (WASM parse + JSON of the tree) costs far more than the insert itself.
 *
 * Accepted literals, exactly as PostgreSQL's scanner reads them (standard_conforming_strings on):
 *   - integers `digits` (int4 range → `ival`, else `fval` with the text, as PostgreSQL),
 *   - decimals / reals `1.5`, `.5`, `5.`, `1e5`, `1.5E-3` (`fval` with the text),
 *   - optionally preceded by `-` (and whitespace): negated as the grammar's doNegate does,
 *     located at the minus,
 *   - strings `'...'` with `''` as the only escape,
 *   - NULL, TRUE, FALSE (any case),
 *   - parameters `$n` (n from 1, no leading zero, at most 6 digits; a parameterized load).
 * Anything else (casts, E'' / U&'' / $$ strings, other parameters, comments, hex / underscore numbers,
 * DEFAULT, expressions, ON CONFLICT, RETURNING, several statements ...) returns undefined and the
 * caller parses with libpg-query.
 *
 * The part before the first list (`INSERT INTO ... VALUES`) is parsed by libpg-query itself, once
 * per distinct text (cached), with a one-value list appended: its target and columns are taken
 * from that parse, so names, quoting, case folding and keywords follow the real grammar.
 *
 * The values are kept compact (FastValues: a kind, a value and a location each, no node per
 * value); the INSERT executor reads them there (exec/statement.ts fastLiteralValues). The VALUES
 * list's nodes are made the first time anything reads `valuesLists`.
 *
 * Invariants:
 *  1. When `fastParseInsert` returns a statement, it is deep-equal to what the libpg-query path
 *     (parse.ts) produces for the same text, locations included (UTF-8 byte offsets, as
 *     libpg-query reports them), once `valuesLists` is read. fast-insert-parse.test.ts checks
 *     this on seeded random texts.
 *  2. The header cache is bounded (HEADER_CACHE entries).
 *
 * Concurrency: pure and synchronous; the cache is shared by all callers (its values are never
 * mutated).
 */
import type { PgNode, SqlStatement } from './statement.js';

const HEADER_CACHE = 256;
/** longest header text considered (a longer one is no plain INSERT ... VALUES) */
const MAX_HEADER = 4096;

interface Header {
  /** InsertStmt fields from the header's own parse (selectStmt replaced per statement) */
  readonly relation: PgNode;
  readonly cols: PgNode | undefined;
  readonly override: PgNode;
  /** UTF-8 bytes minus UTF-16 units of the header text (locations are byte offsets) */
  readonly extraBytes: number;
  /** offset of the first token (libpg-query's stmt_location) */
  readonly start: number;
}

const headers = new Map<string, Header | null>();

/** `INSERT INTO <anything without ' (strings), comments or ;> VALUES (` */
const HEAD = /^\s*insert\s+into\s(?:[^'\-/;]|-(?!-)|\/(?!\*))*?\bvalues(?=\s*\()/iy;

const enum Ch {
  Tab = 9, Nl = 10, Ff = 12, Cr = 13, Space = 32, Quote = 39, LParen = 40, RParen = 41, Plus = 43, Comma = 44,
  Minus = 45, Dot = 46, D0 = 48, D9 = 57, Semi = 59, UpperE = 69, LowerE = 101, Dollar = 36,
}

function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Nl || c === Ch.Tab || c === Ch.Cr || c === Ch.Ff;
}
function isDigit(c: number): boolean {
  return c >= Ch.D0 && c <= Ch.D9;
}
/** characters that would continue an identifier or a number token */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 36 || c >= 128 || c === Ch.Dot;
}

function header(text: string, parse: (sql: string) => PgNode): Header | undefined {
  const hit = headers.get(text);
  if (hit !== undefined) return hit ?? undefined;
  let h: Header | null = null;
  try {
    const r = parse(`${text} (1)`);
    const stmts = r?.stmts;
    const ins = stmts?.length === 1 ? stmts[0].stmt?.InsertStmt : undefined;
    const sel = ins?.selectStmt?.SelectStmt;
    const lists = sel?.valuesLists;
    if (ins && sel && Object.keys(ins).every((k) => k === 'relation' || k === 'cols' || k === 'selectStmt' || k === 'override')
      && ins.override === 'OVERRIDING_NOT_SET'
      && Object.keys(sel).length === 3 && sel.limitOption === 'LIMIT_OPTION_DEFAULT' && sel.op === 'SETOP_NONE'
      && lists?.length === 1 && lists[0].List?.items?.length === 1 && lists[0].List.items[0].A_Const?.ival?.ival === 1) {
      h = { relation: ins.relation, cols: ins.cols, override: ins.override, extraBytes: utf8Extra(text, 0, text.length), start: stmts[0].stmt_location ?? 0 };
    }
  } catch {
    h = null; // not a valid header: the full parse reports the error
  }
  if (headers.size >= HEADER_CACHE) headers.clear();
  headers.set(text, h);
  return h ?? undefined;
}

/** UTF-8 bytes minus UTF-16 units of text[from, to), or -1 when it holds a lone surrogate or NUL. */
function utf8Extra(s: string, from: number, to: number): number {
  let extra = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) { if (c === 0) return -1; continue; }
    if (c < 0x800) extra += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < to ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return -1;
      extra += 2; // 4 bytes for 2 units
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else extra += 2;
  }
  return extra;
}

const INT4_MAX = 2147483647;

/**
 * `s` as a string of its own. V8 makes a slice of 13 or more characters a view into its parent,
 * which would keep the whole statement text alive as long as the inserted value lives (in the
 * table's in-memory delta, until a checkpoint): a concatenation flattened by a search copies it.
 */
function own(s: string): string {
  if (s.length < 13) return s;
  const c = s[0]! + s.slice(1);
  c.indexOf('\u0000');
  return c;
}

/** Kind of a value of a VALUES list read by the fast path. */
export enum Tag { Int, Dec, Str, Null, Bool, Param }

/**
 * The values of a fast-parsed VALUES list, without a node per value (a 1,000-row statement of 4
 * columns made 16,000 nodes, ~0.6 MB of garbage for the young generation): value k has kind
 * `tags[k]`, value `vals[k]` (Int: the int4 number; Dec: the literal's text, `-` prefixed when
 * negated; Str: the string; Bool: true / false; Param: its number; Null: null) and location
 * `locs[k]`; row r ends before value `rowEnds[r]`. `width`: values per row when every row has
 * the same count, else -1. The nodes the libpg-query path would give (`valuesLists`) are made
 * only when something reads them (invariant 1 holds for them).
 */
export interface FastValues {
  readonly rows: number;
  readonly width: number;
  /** some value is a parameter */
  readonly params: boolean;
  readonly tags: readonly Tag[];
  readonly vals: readonly unknown[];
  readonly locs: readonly number[];
  readonly rowEnds: readonly number[];
}

const FAST_VALUES = Symbol('quiverdb.fastValues');

/** The compact values of a SelectStmt the fast path made, or undefined (any other SelectStmt). */
export function fastValuesOf(sel: PgNode): FastValues | undefined {
  return (sel as { [FAST_VALUES]?: FastValues })[FAST_VALUES];
}

function uniformWidth(rowEnds: readonly number[]): number {
  const w = rowEnds[0] ?? 0;
  for (let r = 1; r < rowEnds.length; r++) if (rowEnds[r]! - rowEnds[r - 1]! !== w) return -1;
  return w;
}

/** A_Const / ParamRef node of value k, as libpg-query gives it. */
function valueNode(v: FastValues, k: number): PgNode {
  const location = v.locs[k]!;
  const x = v.vals[k];
  switch (v.tags[k]!) {
    case Tag.Int: return { A_Const: { ival: x === 0 ? {} : { ival: x }, location } };
    case Tag.Dec: return { A_Const: { fval: { fval: x }, location } };
    case Tag.Str: return { A_Const: { sval: { sval: x }, location } };
    case Tag.Null: return { A_Const: { isnull: true, location } };
    case Tag.Bool: return { A_Const: { boolval: x === true ? { boolval: true } : {}, location } };
    case Tag.Param: return { ParamRef: { number: x, location } };
  }
}

/**
 * The SelectStmt of a VALUES list: its compact values under FAST_VALUES (not enumerable), and
 * `valuesLists` made from them on first read (then kept as a plain property).
 */
function valuesSelect(v: FastValues): PgNode {
  const sel: PgNode = {};
  Object.defineProperty(sel, 'valuesLists', {
    enumerable: true,
    configurable: true,
    get(): PgNode[] {
      const lists: PgNode[] = [];
      for (let r = 0, k = 0; r < v.rows; r++) {
        const items: PgNode[] = [];
        for (const end = v.rowEnds[r]!; k < end; k++) items.push(valueNode(v, k));
        lists.push({ List: { items } });
      }
      Object.defineProperty(sel, 'valuesLists', { value: lists, enumerable: true, configurable: true, writable: true });
      return lists;
    },
  });
  sel.limitOption = 'LIMIT_OPTION_DEFAULT';
  sel.op = 'SETOP_NONE';
  Object.defineProperty(sel, FAST_VALUES, { value: v, enumerable: false });
  return sel;
}

/**
 * The statement of `sql` when it is a literal-only multi-row INSERT (see the header), else
 * undefined. `parse` is libpg-query's raw parse (used once per distinct header text).
 */
export function fastParseInsert(sql: string, parse: (sql: string) => PgNode): SqlStatement | undefined {
  HEAD.lastIndex = 0;
  const m = HEAD.exec(sql);
  if (m === null || m[0].length > MAX_HEADER) return undefined;
  const h = header(m[0], parse);
  if (h === undefined || h.extraBytes < 0) return undefined;
  const n = sql.length;
  let extra = h.extraBytes;
  let i = m[0].length;
  const tags: Tag[] = [];
  const vals: unknown[] = [];
  const locs: number[] = [];
  const rowEnds: number[] = [];
  let params = false;
  for (;;) {
    while (i < n && isSpace(sql.charCodeAt(i))) i++;
    if (sql.charCodeAt(i) !== Ch.LParen) return undefined;
    i++;
    for (;;) {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      if (i >= n) return undefined;
      const loc = i + extra;
      let c = sql.charCodeAt(i);
      let tag: Tag;
      let val: unknown = null;
      if (c === Ch.Quote) {
        // '...' with '' for a quote; no backslash escapes (standard_conforming_strings)
        let j = i + 1;
        let value = '';
        let from = j;
        for (;;) {
          const q = sql.indexOf("'", j);
          if (q < 0) return undefined;
          if (sql.charCodeAt(q + 1) === Ch.Quote) { value += sql.slice(from, q + 1); j = q + 2; from = j; continue; }
          value += sql.slice(from, q);
          const e = utf8Extra(sql, i + 1, q);
          if (e < 0) return undefined;
          extra += e;
          i = q + 1;
          break;
        }
        tag = Tag.Str;
        val = own(value);
      } else if (c === Ch.Minus || c === Ch.Dot || isDigit(c)) {
        let neg = false;
        if (c === Ch.Minus) {
          neg = true;
          i++;
          while (i < n && isSpace(sql.charCodeAt(i))) i++;
          c = sql.charCodeAt(i);
          if (!(isDigit(c) || (c === Ch.Dot && isDigit(sql.charCodeAt(i + 1))))) return undefined;
        }
        const start = i;
        let integer = true;
        while (isDigit(sql.charCodeAt(i))) i++;
        if (sql.charCodeAt(i) === Ch.Dot) {
          // `1.` and `.5` are numerics; `..` (a `1..2` range) is not a literal here
          if (sql.charCodeAt(i + 1) === Ch.Dot) return undefined;
          integer = false;
          i++;
          while (isDigit(sql.charCodeAt(i))) i++;
          if (i - start === 1) return undefined; // a lone '.'
        }
        c = sql.charCodeAt(i);
        if (c === Ch.LowerE || c === Ch.UpperE) {
          let k = i + 1;
          const s = sql.charCodeAt(k);
          if (s === Ch.Plus || s === Ch.Minus) k++;
          if (!isDigit(sql.charCodeAt(k))) return undefined; // trailing junk: an error in PostgreSQL
          while (isDigit(sql.charCodeAt(k))) k++;
          i = k;
          integer = false;
        }
        if (i < n && isWordChar(sql.charCodeAt(i))) return undefined; // 0x1F, 1_000, 12abc ...
        const text = own(sql.slice(start, i));
        let value = -1;
        if (integer) {
          value = Number(text); // leading zeros read as PostgreSQL's strtoint reads them
          if (value > INT4_MAX) value = -1;
        }
        if (value >= 0) {
          tag = Tag.Int;
          val = neg ? -value : value;
        } else {
          tag = Tag.Dec;
          val = neg ? `-${text}` : text;
        }
      } else if (c === Ch.Dollar) {
        // a parameter `$n` (a parameterized load): n without leading zeros, at most 6 digits
        let j = i + 1;
        if (!isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === Ch.D0) return undefined;
        while (isDigit(sql.charCodeAt(j))) j++;
        if (j - i > 7 || (j < n && isWordChar(sql.charCodeAt(j)))) return undefined;
        tag = Tag.Param;
        val = Number(sql.slice(i + 1, j));
        params = true;
        i = j;
      } else {
        // NULL / TRUE / FALSE
        let j = i;
        while (j < n && isWordChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== Ch.Dot) j++;
        const word = sql.slice(i, j).toLowerCase();
        if (word === 'null') tag = Tag.Null;
        else if (word === 'true') { tag = Tag.Bool; val = true; }
        else if (word === 'false') { tag = Tag.Bool; val = false; }
        else return undefined;
        i = j;
      }
      tags.push(tag);
      vals.push(val);
      locs.push(loc);
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      c = sql.charCodeAt(i);
      i++;
      if (c === Ch.Comma) continue;
      if (c === Ch.RParen) break;
      return undefined;
    }
    rowEnds.push(tags.length);
    while (i < n && isSpace(sql.charCodeAt(i))) i++;
    if (sql.charCodeAt(i) === Ch.Comma) { i++; continue; }
    break;
  }
  // optional `;`, then nothing but whitespace
  let end = n;
  if (sql.charCodeAt(i) === Ch.Semi) { end = i; i++; }
  while (i < n && isSpace(sql.charCodeAt(i))) i++;
  if (i !== n) return undefined;
  const node: PgNode = { relation: h.relation };
  if (h.cols !== undefined) node.cols = h.cols;
  node.selectStmt = { SelectStmt: valuesSelect({ rows: rowEnds.length, width: uniformWidth(rowEnds), params, tags, vals, locs, rowEnds }) };
  node.override = h.override;
  return { kind: 'insert', sql: sql.slice(h.start, end).trim(), node };
}
