import { describe, expect, it } from 'vitest';
import { formatFloat4, formatFloat8, fromPgText, toPgText } from './pg-text-format.js';
import { Oid } from './pg-types.js';
import { seededRandom } from '@quiverdb/common';

describe('float8 output (PostgreSQL 12+, extra_float_digits = 1)', () => {
  it.each([
    [0.1, '0.1'], [1e15, '1e+15'], [123456789012345, '123456789012345'], [1e-5, '1e-05'], [0.0001, '0.0001'],
    [1.7976931348623157e308, '1.7976931348623157e+308'], [5e-324, '5e-324'], [-0, '-0'], [0, '0'], [100, '100'],
    [1.5e300, '1.5e+300'], [123.456, '123.456'], [1 / 3, '0.3333333333333333'], [-2.5, '-2.5'], [1e100, '1e+100'],
    [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [0.30000000000000004, '0.30000000000000004'],
    [999999999999999.9, '999999999999999.9'], [1234567890123456, '1.234567890123456e+15'],
  ])('%s → %s', (v, text) => {
    expect(formatFloat8(v)).toBe(text);
  });

  it('reads back exactly (seeded random doubles)', () => {
    const r = seededRandom(7);
    const buf = new DataView(new ArrayBuffer(8));
    for (let i = 0; i < 5000; i++) {
      buf.setUint32(0, (r() * 2 ** 32) >>> 0);
      buf.setUint32(4, (r() * 2 ** 32) >>> 0);
      const v = buf.getFloat64(0);
      if (!Number.isFinite(v)) continue;
      const text = formatFloat8(v);
      expect(Object.is(Number(text), v)).toBe(true);
      expect(text).toMatch(/^-?(\d+(\.\d+)?|\d(\.\d+)?e[+-]\d{2,3})$/);
    }
  });
});

describe('float4 output', () => {
  it.each([
    [Math.fround(0.1), '0.1'], [1e6, '1e+06'], [123456, '123456'], [Math.fround(1.1), '1.1'],
    [Math.fround(3.4028235e38), '3.4028235e+38'], [Math.fround(1e-5), '1e-05'], [Math.fround(0.5), '0.5'], [NaN, 'NaN'],
  ])('%s → %s', (v, text) => {
    expect(formatFloat4(v)).toBe(text);
  });

  it('reads back to the same float32 (seeded random floats)', () => {
    const r = seededRandom(11);
    const buf = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < 5000; i++) {
      buf.setUint32(0, (r() * 2 ** 32) >>> 0);
      const v = buf.getFloat32(0);
      if (!Number.isFinite(v)) continue;
      expect(Object.is(Math.fround(Number(formatFloat4(v))), v)).toBe(true);
    }
  });
});

describe('toPgText', () => {
  it('prints values as PostgreSQL does', () => {
    expect(toPgText(true, Oid.bool)).toBe('t');
    expect(toPgText(false, Oid.bool)).toBe('f');
    expect(toPgText(12345678901234567890n, Oid.numeric)).toBe('12345678901234567890');
    expect(toPgText(42, Oid.int4)).toBe('42');
    expect(toPgText(1e15, Oid.float8)).toBe('1e+15');
    expect(toPgText('12.50', Oid.numeric)).toBe('12.50');
    expect(toPgText(new Uint8Array([0, 255]), Oid.bytea)).toBe('\\x00ff');
    expect(toPgText({ a: 1n }, Oid.json)).toBe('{"a":"1"}');
  });
});

describe('fromPgText', () => {
  it('parses typed text parameters and rejects bad ones with a SQLSTATE', () => {
    expect(fromPgText(' 42 ', Oid.int4)).toBe(42);
    expect(fromPgText('9223372036854775807', Oid.int8)).toBe(9223372036854775807n);
    expect(fromPgText('Infinity', Oid.float8)).toBe(Infinity);
    expect(fromPgText('1.5e3', Oid.float8)).toBe(1500);
    expect(fromPgText('yes', Oid.bool)).toBe(true);
    expect(fromPgText('x', 0)).toBe('x');
    expect(() => fromPgText('4.5', Oid.int4)).toThrow(expect.objectContaining({ code: '22P02' }));
    expect(() => fromPgText('40000', Oid.int2)).toThrow(expect.objectContaining({ code: '22003' }));
    expect(() => fromPgText('9223372036854775808', Oid.int8)).toThrow(expect.objectContaining({ code: '22003' }));
    expect(() => fromPgText('maybe', Oid.bool)).toThrow(expect.objectContaining({ code: '22P02' }));
  });
});
