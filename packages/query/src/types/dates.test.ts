import { describe, expect, it } from 'vitest';
import { SqlState, seededRandom } from '@quiverdb/common';
import { formatDate, parseDate } from './values.js';

/** The general path's answer: a form the canonical fast path does not take (a trailing space). */
const general = (text: string): number => parseDate(`${text} `);

describe('parseDate', () => {
  it('reads canonical YYYY-MM-DD dates as the general path does, leap days included', () => {
    const rnd = seededRandom(2026);
    for (let i = 0; i < 20_000; i++) {
      const days = Math.floor(rnd() * 3_000_000) - 700_000; // years ~ 0053 .. 9999
      const text = formatDate(days);
      if (text.length !== 10) continue;
      expect(parseDate(text), text).toBe(days);
      expect(general(text), text).toBe(days);
    }
    for (const t of ['2024-02-29', '2000-02-29', '1970-01-01', '0001-01-01', '9999-12-31', '1969-12-31']) expect(parseDate(t), t).toBe(general(t));
    expect(parseDate('1970-01-01')).toBe(0);
    expect(parseDate('1969-12-31')).toBe(-1);
  });

  it('rejects impossible dates with 22008 and malformed ones with 22007', () => {
    for (const t of ['2023-02-29', '1900-02-29', '2024-04-31', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32']) {
      expect(() => parseDate(t), t).toThrow(expect.objectContaining({ code: SqlState.DatetimeFieldOverflow }));
    }
    for (const t of ['2024-0a-01', '20x4-01-01', '2024/01/01', '']) {
      expect(() => parseDate(t), t).toThrow(expect.objectContaining({ code: SqlState.InvalidDatetimeFormat }));
    }
  });
});
