import { describe, expect, it } from 'vitest';
import { decodeBinary, encodeBinary } from './pg-binary-format.js';
import { Oid } from './pg-types.js';

describe('binary format', () => {
  it.each([
    [Oid.bool, true], [Oid.bool, false], [Oid.int2, -32768], [Oid.int4, 2147483647], [Oid.int8, -9223372036854775808n],
    [Oid.float4, Math.fround(1.1)], [Oid.float8, 0.1], [Oid.float8, -Infinity], [Oid.text, 'héllo wörld'], [Oid.varchar, ''],
    [Oid.date, '2024-02-29'], [Oid.date, '1999-12-31'], [Oid.date, '0044-03-15 BC'], [Oid.date, 'infinity'],
    [Oid.timestamp, '2024-02-29 13:45:01.123456'], [Oid.timestamp, '1970-01-01 00:00:00'], [Oid.timestamp, '1900-06-01 23:59:59.5'],
    [Oid.numeric, '0'], [Oid.numeric, '12.50'], [Oid.numeric, '-1234567890.0001'], [Oid.numeric, '0.000012'], [Oid.numeric, '10000'],
    [Oid.numeric, 'NaN'], [Oid.numeric, '100000000000000000000.5'],
    [Oid.interval, '1 year 2 mons 3 days 04:05:06.5'], [Oid.interval, '-3 days +01:00:00'], [Oid.interval, '-1 years -2 mons'], [Oid.interval, '-1 days +02:00:00'], [Oid.interval, '1 day -00:00:01'], [Oid.interval, '00:00:00'], [Oid.interval, '-00:00:01'],
  ])('oid %i round-trips %s', (oid, v) => {
    expect(decodeBinary(encodeBinary(v, oid), oid)).toEqual(v);
  });

  it('encodes numerics in PostgreSQL base-10000 layout', () => {
    const b = encodeBinary('12345.678', Oid.numeric);
    // ndigits 3, weight 1, sign +, dscale 3, digits 1 2345 6780
    expect([b.readInt16BE(0), b.readInt16BE(2), b.readUInt16BE(4), b.readInt16BE(6), b.readInt16BE(8), b.readInt16BE(10), b.readInt16BE(12)]).toEqual([3, 1, 0, 3, 1, 2345, 6780]);
  });

  it('encodes dates and timestamps relative to 2000-01-01', () => {
    expect(encodeBinary('2000-01-02', Oid.date).readInt32BE(0)).toBe(1);
    expect(encodeBinary('2000-01-01 00:00:01', Oid.timestamp).readBigInt64BE(0)).toBe(1_000_000n);
  });

  it('refuses unsupported types and bad lengths with a SQLSTATE', () => {
    expect(() => encodeBinary('x', 99999)).toThrow(expect.objectContaining({ code: '0A000' }));
    expect(() => decodeBinary(Buffer.alloc(3), Oid.int4)).toThrow(expect.objectContaining({ code: '22P03' }));
  });
});
