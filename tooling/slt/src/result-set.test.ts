import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareResult, hashValues, renderExpected, sortedValues } from './result-set.js';

const rows = [
  ['b', '2'],
  ['a', '10'],
  ['a', '9'],
];

describe('sortedValues', () => {
  it('nosort keeps order, rowsort sorts rows column by column as strings, valuesort sorts values', () => {
    expect(sortedValues(rows, 'nosort')).toEqual(['b', '2', 'a', '10', 'a', '9']);
    expect(sortedValues(rows, 'rowsort')).toEqual(['a', '10', 'a', '9', 'b', '2']);
    expect(sortedValues(rows, 'valuesort')).toEqual(['10', '2', '9', 'a', 'a', 'b']);
  });

  it('rowsort orders a shorter first value before its extensions, whatever follows', () => {
    const r = [['ab', 'a'], ['a', 'z'], ['a', 'b'], ['', 'x'], ['a!', '0']];
    expect(sortedValues(r, 'rowsort')).toEqual(['', 'x', 'a', 'b', 'a', 'z', 'a!', '0', 'ab', 'a']);
    expect(sortedValues([['b'], ['a'], ['B'], ['10'], ['9']], 'rowsort')).toEqual(['10', '9', 'B', 'a', 'b']);
  });

  it('rowsort agrees with a column-by-column comparator on random rows, NUL-holding ones included', () => {
    let seed = 7;
    const next = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    const alphabet = ['a', 'b', '1', ' ', '\0', '-'];
    const word = (): string => { let w = ''; const n = next() % 3; for (let i = 0; i < n; i++) w += alphabet[next() % alphabet.length]; return w; };
    const cmp = (a: string[], b: string[]): number => { for (let i = 0; i < a.length; i++) { if (a[i]! < b[i]!) return -1; if (a[i]! > b[i]!) return 1; } return 0; };
    for (let round = 0; round < 50; round++) {
      const width = 1 + (next() % 3);
      const noNul = round % 2 === 0;
      const r = Array.from({ length: next() % 40 }, () => Array.from({ length: width }, () => (noNul ? word().replaceAll('\0', 'n') : word())));
      expect(sortedValues(r, 'rowsort')).toEqual([...r].sort(cmp).flat());
    }
  });
});

describe('hashValues', () => {
  it('hashes each value followed by a newline', () => {
    const expected = createHash('md5').update('1\n2\n').digest('hex');
    expect(hashValues(['1', '2'])).toBe(expected);
  });

  it('hashes many values as the value-by-value digest', () => {
    const vals = Array.from({ length: 1000 }, (_v, i) => String((i * 7919) % 1013));
    const h = createHash('md5');
    for (const v of vals) h.update(`${v}\n`);
    expect(hashValues(vals)).toBe(h.digest('hex'));
  });

  it('hashes an empty result to md5 of nothing', () => {
    expect(hashValues([])).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});

describe('compareResult', () => {
  it('accepts one value per line, rows per line (tab or space separated) and a hash line', () => {
    expect(compareResult(rows, 2, 'rowsort', ['a', '10', 'a', '9', 'b', '2']).ok).toBe(true);
    expect(compareResult(rows, 2, 'rowsort', ['a\t10', 'a\t9', 'b\t2']).ok).toBe(true);
    expect(compareResult(rows, 2, 'rowsort', ['a 10', 'a 9', 'b 2']).ok).toBe(true);
    const h = hashValues(['a', '10', 'a', '9', 'b', '2']);
    expect(compareResult(rows, 2, 'rowsort', [`6 values hashing to ${h}`]).ok).toBe(true);
    expect(compareResult(rows, 2, 'nosort', [`6 values hashing to ${h}`]).ok).toBe(false);
    expect(compareResult(rows, 2, 'rowsort', [`7 values hashing to ${h}`]).ok).toBe(false);
  });

  it('sorts the expected block like the actual one (so unsorted expectations still match under rowsort)', () => {
    expect(compareResult(rows, 2, 'rowsort', ['b\t2', 'a\t9', 'a\t10']).ok).toBe(true);
  });

  it('fails on a wrong value, a missing row and an extra row, with a reason', () => {
    const wrong = compareResult(rows, 2, 'nosort', ['b', '2', 'a', '10', 'a', '8']);
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toBeDefined();
    expect(compareResult(rows, 2, 'nosort', ['b', '2', 'a', '10']).ok).toBe(false);
    expect(compareResult(rows.slice(0, 2), 2, 'nosort', ['b', '2', 'a', '10', 'a', '9']).ok).toBe(false);
    expect(compareResult([], 1, 'nosort', ['1']).ok).toBe(false);
    expect(compareResult([], 1, 'nosort', []).ok).toBe(true);
  });
});

describe('renderExpected', () => {
  it('writes rows tab-separated, or values one per line, or a hash above the threshold', () => {
    expect(renderExpected(rows, 'rowsort', 0, 'rows')).toEqual(['a\t10', 'a\t9', 'b\t2']);
    expect(renderExpected(rows, 'nosort', 0, 'values')).toEqual(['b', '2', 'a', '10', 'a', '9']);
    expect(renderExpected(rows, 'rowsort', 4, 'rows')).toEqual([`6 values hashing to ${hashValues(sortedValues(rows, 'rowsort'))}`]);
  });

  it('round-trips: what it renders compares equal', () => {
    for (const mode of ['nosort', 'rowsort', 'valuesort'] as const) {
      for (const style of ['rows', 'values'] as const) {
        for (const threshold of [0, 3]) {
          expect(compareResult(rows, 2, mode, renderExpected(rows, mode, threshold, style)).ok).toBe(true);
        }
      }
    }
  });
});
