/**
 * Test support (not exported from index.ts): a naive model of a table's row versions, a random
 * generator, and helpers to drive a Store like the engine does.
 */
import { isVisible, NOT_DELETED, ABORTED, TXN_ID_START, type ColumnBatch, type Snapshot, type TableId, type Timestamp, type TxnId } from '@quiverdb/common';
import type { Store, StoredTableSpec } from './api.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

export const SPEC = (id: number): StoredTableSpec => ({
  id: id as TableId,
  columns: [
    { id: 1, name: 'k', type: 'int32', nullable: false },
    { id: 2, name: 's', type: 'utf8', nullable: true },
    { id: 3, name: 'b', type: 'int64', nullable: true },
    { id: 4, name: 'f', type: 'float64', nullable: true },
  ],
});

export type Row = [number, string | null, bigint | null, number | null];

export function rowsToBatch(rows: readonly Row[]): ColumnBatch {
  const n = rows.length;
  const k = new Int32Array(n);
  const s = new Array<string>(n).fill('');
  const b = new BigInt64Array(n);
  const f = new Float64Array(n);
  const sv = new Uint8Array(n);
  const bv = new Uint8Array(n);
  const fv = new Uint8Array(n);
  rows.forEach((r, i) => {
    k[i] = r[0];
    if (r[1] !== null) { s[i] = r[1]; sv[i] = 1; }
    if (r[2] !== null) { b[i] = r[2]; bv[i] = 1; }
    if (r[3] !== null) { f[i] = r[3]; fv[i] = 1; }
  });
  return { length: n, columns: [{ data: k, validity: null }, { data: s, validity: sv }, { data: b, validity: bv }, { data: f, validity: fv }] };
}

export function batchToRows(batch: ColumnBatch): Row[] {
  const out: Row[] = [];
  const [k, s, b, f] = batch.columns;
  for (let i = 0; i < batch.length; i++) {
    const v = (c: typeof k, x: unknown): unknown => (c!.validity !== null && c!.validity[i] === 0 ? null : x);
    out.push([
      (k!.data as Int32Array)[i]!,
      v(s, (s!.data as string[])[i]) as string | null,
      v(b, (b!.data as BigInt64Array)[i]) as bigint | null,
      v(f, (f!.data as Float64Array)[i]) as number | null,
    ]);
  }
  return out;
}

export function randomRow(r: () => number, key: number): Row {
  return [
    key,
    r() < 0.2 ? null : `s${Math.floor(r() * 1000)}${r() < 0.1 ? 'é✓' : ''}`,
    r() < 0.2 ? null : BigInt(Math.floor(r() * 1e6)) * 1000003n,
    r() < 0.2 ? null : Math.floor(r() * 1e6) / 8,
  ];
}

/** Scan all columns with row ids; rows sorted by row id. */
export async function scanAll(store: Store, table: TableId, snap: Snapshot): Promise<{ id: number; row: Row }[]> {
  const out: { id: number; row: Row }[] = [];
  for await (const b of store.scan(table, snap, { columns: [0, 1, 2, 3], withRowIds: true, batchSize: 1000 })) {
    const rows = batchToRows(b.batch);
    rows.forEach((row, i) => out.push({ id: b.rowIds![i]!, row }));
  }
  out.sort((a, b) => a.id - b.id);
  return out;
}

/** The naive model: every row version with its stamps, visibility by the one rule. */
export class ModelTable {
  versions = new Map<number, { row: Row; ins: number; del: number }>();
  visible(snap: Snapshot): { id: number; row: Row }[] {
    const out: { id: number; row: Row }[] = [];
    for (const [id, v] of this.versions) if (isVisible(snap, v.ins, v.del)) out.push({ id, row: v.row });
    return out.sort((a, b) => a.id - b.id);
  }
  /** After a crash/reopen: running txns vanish, committed stamps collapse below `ts`. */
  recover(): void {
    for (const [id, v] of this.versions) {
      if (v.ins >= TXN_ID_START) { this.versions.delete(id); continue; }
      if (v.del >= TXN_ID_START && v.del !== NOT_DELETED) v.del = NOT_DELETED;
      v.ins = 0;
      if (v.del !== NOT_DELETED) this.versions.delete(id);
    }
  }
}

export class Clock {
  ts = 1;
  nextTxn = TXN_ID_START + 1;
  /** `alone`: commits tell the store no other transaction is open (the WAL syncs at once) */
  constructor(private readonly alone = false) {}
  begin(): { txn: TxnId; snap: Snapshot } {
    const txn = this.nextTxn++ as TxnId;
    return { txn, snap: { txnId: txn, startTs: (this.ts + 1) as Timestamp } };
  }
  async commit(store: Store, txn: TxnId): Promise<number> {
    await store.prepareCommit(txn, { openTxns: this.alone ? 1 : 0 });
    const ts = ++this.ts;
    store.finishCommit(txn, ts as Timestamp);
    return ts;
  }
  readSnap(): Snapshot {
    return { txnId: (this.nextTxn++) as TxnId, startTs: (this.ts + 1) as Timestamp };
  }
}

export { ABORTED, NOT_DELETED };
