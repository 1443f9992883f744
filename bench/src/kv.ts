/**
 * The OLTP table `kv(id INTEGER PRIMARY KEY, k VARCHAR, v DOUBLE, grp INTEGER)`: ids 1..n in
 * order, `k` a short string derived from the id, `v` uniform in [0, 1000), `grp` uniform in 0..99.
 */
import { Rng } from './rng.js';
import type { TableData, TableDef } from './table-data.js';

export const KV_TABLE: TableDef = {
  name: 'kv',
  columns: [
    { name: 'id', kind: 'int' },
    { name: 'k', kind: 'varchar' },
    { name: 'v', kind: 'double' },
    { name: 'grp', kind: 'int' },
  ],
  primaryKey: ['id'],
};

export function kvKey(id: number): string {
  return `key-${(Math.imul(id, 0x9e3779b1) >>> 0).toString(36)}`;
}

/** Rows with ids `firstId .. firstId + n - 1` (a fresh table starts at 1). */
export function generateKv(n: number, seed: number, firstId = 1, name = 'kv'): TableData {
  const rng = Rng.derive(seed, `kv:${firstId}`);
  const id = new Int32Array(n), k: string[] = new Array<string>(n), v = new Float64Array(n), grp = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    id[i] = firstId + i;
    k[i] = kvKey(firstId + i);
    v[i] = Math.round(rng.float() * 1e8) / 1e5;
    grp[i] = rng.int(0, 99);
  }
  return { def: { ...KV_TABLE, name }, rowCount: n, columns: [id, k, v, grp] };
}
