/**
 * WAL record payloads: every op survives encode → WAL → recovery → decode, for batches small
 * enough for the value-by-value writer and larger ones (typed copies, one UTF-8 blob), with
 * NULLs, non-ASCII text and every physical type.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, type ColumnVector, type PhysicalType, type TableId, type TxnId } from '@quiverdb/common';
import { MemEnv } from '../env/mem-env.js';
import { decodeOp, encodeOp, encodeOpRecord, type WalOp } from './records.js';
import { Wal } from './wal.js';

const TYPES: PhysicalType[] = ['bool', 'int16', 'int32', 'int64', 'float32', 'float64', 'date32', 'timestamp_us', 'utf8', 'json'];

function column(type: PhysicalType, n: number, rnd: () => number, nulls: boolean): ColumnVector {
  const validity = nulls ? Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 0 : 1)) : null;
  const int = (): number => Math.floor(rnd() * 2000) - 1000;
  switch (type) {
    case 'bool': return { data: Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0)), validity };
    case 'int16': case 'int32': case 'date32': return { data: Int32Array.from({ length: n }, int), validity };
    case 'int64': return { data: BigInt64Array.from({ length: n }, () => BigInt(int()) * 1_000_000_007n), validity };
    case 'float32': case 'float64': case 'timestamp_us': return { data: Float64Array.from({ length: n }, () => rnd() * 1e6 - 5e5), validity };
    case 'utf8': return { data: Array.from({ length: n }, (_x, i) => (validity?.[i] === 0 ? null : ['', 'a', 'ключ', '键值', 'x\u0000y', 'e\u0301', '🙂'][i % 7]! + int())), validity } as ColumnVector;
    case 'json': return { data: Array.from({ length: n }, (_x, i) => (validity?.[i] === 0 ? null : { k: int(), s: 'ü' })), validity } as ColumnVector;
  }
}

/** The column as plain values (NULL slots as null), for comparison. */
function values(v: ColumnVector, n: number): unknown[] {
  return Array.from({ length: n }, (_x, i) => (v.validity !== null && v.validity[i] === 0 ? null : (v.data as ArrayLike<unknown>)[i]));
}

describe('WAL records', () => {
  it('round-trip inserts of every type and size, deletes, meta, DDL and commit through a WAL', async () => {
    const rnd = seededRandom(7);
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0);
    const ops: WalOp[] = [];
    for (const n of [0, 1, 3, 16, 17, 200]) {
      for (const nulls of [false, true]) {
        const columns = TYPES.map((t) => column(t, n, rnd, nulls));
        ops.push({ t: 'insert', table: 3 as TableId, firstRowId: 100 + n, colIds: TYPES.map((_t, i) => i + 1), types: TYPES, batch: { length: n, columns } });
      }
      ops.push({ t: 'delete', table: 3 as TableId, rowIds: Float64Array.from({ length: n }, (_x, i) => i * 3 + 0.0) });
    }
    ops.push({ t: 'meta', key: 'k→', value: 'v✓' }, { t: 'meta', key: 'gone', value: undefined }, { t: 'drop', table: 9 as TableId }, { t: 'commit' });
    for (const op of ops) wal.appendRecord(encodeOpRecord(42 as TxnId, op));
    await wal.sync();
    // the in-place record and the separate payload encode the same bytes
    for (const op of ops) {
      const rec = encodeOpRecord(42 as TxnId, op);
      expect(rec.subarray(9)).toEqual(encodeOp(42 as TxnId, op).payload);
    }
    env.crash();
    const { records } = await Wal.open(env, '/w', 0);
    expect(records.length).toBe(ops.length);
    records.forEach((r, k) => {
      const { txn, op } = decodeOp(r.type, r.payload);
      expect(txn).toBe(42);
      const want = ops[k]!;
      expect(op.t).toBe(want.t);
      if (op.t === 'insert' && want.t === 'insert') {
        expect(op.firstRowId).toBe(want.firstRowId);
        expect(op.batch.length).toBe(want.batch.length);
        expect(op.types).toEqual(want.types);
        op.batch.columns.forEach((c, j) => expect(values(c, op.batch.length)).toEqual(values(want.batch.columns[j]!, want.batch.length)));
      } else if (op.t === 'delete' && want.t === 'delete') {
        expect(Array.from(op.rowIds)).toEqual(Array.from(want.rowIds));
      } else {
        expect(op).toEqual(want);
      }
    });
  });

  it('an insert of rows [from, from + rows) of a batch encodes the same bytes as a batch of those rows alone', () => {
    const rnd = seededRandom(11);
    const slice = (v: ColumnVector, from: number, n: number): ColumnVector => ({
      data: (v.data as Int32Array).slice(from, from + n),
      validity: v.validity === null ? null : v.validity.slice(from, from + n),
    } as ColumnVector);
    for (const [len, from, n] of [[40, 0, 1], [40, 7, 1], [40, 13, 16], [40, 3, 17], [300, 50, 200]] as const) {
      for (const nulls of [false, true]) {
        const columns = TYPES.map((t) => column(t, len, rnd, nulls));
        const base = { t: 'insert' as const, table: 3 as TableId, firstRowId: 500, colIds: TYPES.map((_t, i) => i + 1), types: TYPES };
        const part = encodeOpRecord(42 as TxnId, { ...base, batch: { length: len, columns }, from, rows: n });
        const alone = encodeOpRecord(42 as TxnId, { ...base, batch: { length: n, columns: columns.map((c) => slice(c, from, n)) } });
        expect(Buffer.compare(part, alone)).toBe(0);
      }
    }
  });
});
