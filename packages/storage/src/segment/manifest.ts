/**
 * The manifest: the metadata root of a checkpoint (tables, segments with zone maps and persisted
 * delete vectors, committed metadata entries, the WAL LSN to replay from).
 *
 *   MANIFEST-<n> := "QMF1" crc:u32 len:u32 json[len]        crc = CRC32C(json)
 *   CURRENT      := "MANIFEST-<n>\n"
 *
 * With a MetadataBackend (api.ts) the JSON holds the backend's record as `metaStore` and no
 * `meta` / `tables` keys (so a version that predates backends fails to open it rather than
 * reading an empty catalog); the entries live in the backend, flattened one key per table / segment / entry:
 *   m:<key>                         a metadata entry's value (the catalog)
 *   t:<table id:10>                 { spec, nextRowId, lastCompaction?, segments: [segment ids, in order] }
 *   s:<table id:10>:<segment id:10> the ManifestSegment (zone maps, persisted deletes)
 * so a checkpoint rewrites only the keys that changed.
 *
 * Switch protocol: write MANIFEST-<n> + fsync, write CURRENT.tmp + fsync, rename to CURRENT,
 * fsync the directory. Readers trust only what CURRENT names.
 */
import { DataCorrupted, type TableId } from '@quiverdb/common';
import type { StoredTableSpec } from '../api.js';
import { crc32c } from '../wal/crc32c.js';

export interface ManifestSegment {
  id: number;
  file: string;
  rows: number;
  bytes: number;
  columns: StoredTableSpec['columns'];
  runs: number[];
  rowGroups: { offset: number; rows: number; zones: [number, unknown][] }[];
  /** base64 of a Uint32Array of deleted row offsets (committed deletes) */
  deletes: string;
}

export interface ManifestTable {
  spec: StoredTableSpec;
  nextRowId: number;
  segments: ManifestSegment[];
  /** ms since the epoch of the table's last compaction / OPTIMIZE (absent: never) */
  lastCompaction?: number;
}

export interface Manifest {
  version: 1;
  seq: number;
  walStartLsn: number;
  maxCommitTs: number;
  nextSegmentId: number;
  /** in memory: always the entries; on disk: absent when `metaStore` is set */
  meta: [string, string][];
  /** in memory: always the tables; on disk: absent when `metaStore` is set */
  tables: ManifestTable[];
  /**
   * The record of the store's MetadataBackend (its root) holding `meta` and `tables` flattened
   * (`flattenManifest`); absent: they are inline (the default backend, and older manifests).
   */
  metaStore?: unknown;
}

export function emptyManifest(): Manifest {
  return { version: 1, seq: 0, walStartLsn: 0, maxCommitTs: 0, nextSegmentId: 1, meta: [], tables: [] };
}

const MAGIC = [0x51, 0x4d, 0x46, 0x31];

export function encodeManifest(m: Manifest): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(m));
  const out = new Uint8Array(12 + json.length);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, crc32c(json), true);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  return out;
}

export function decodeManifest(b: Uint8Array, name: string): Manifest {
  if (b.length < 12 || MAGIC.some((x, i) => b[i] !== x)) throw new DataCorrupted(`${name}: not a manifest`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const crc = dv.getUint32(4, true);
  const len = dv.getUint32(8, true);
  const json = b.subarray(12, 12 + len);
  if (json.length !== len || crc32c(json) !== crc) throw new DataCorrupted(`${name}: checksum mismatch`);
  return JSON.parse(new TextDecoder().decode(json)) as Manifest;
}

export function encodeOffsets(offs: Uint32Array): string {
  return Buffer.from(offs.buffer, offs.byteOffset, offs.byteLength).toString('base64');
}

export function decodeOffsets(s: string): Uint32Array {
  const b = Buffer.from(s, 'base64');
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Uint32Array(copy.buffer, 0, copy.length >> 2);
}

export function segmentPath(table: TableId, id: number): string {
  return `data/${table}/${String(id).padStart(10, '0')}.parquet`;
}

const pad10 = (n: number | TableId) => String(n).padStart(10, '0');

/** The metadata of `m` as flat entries (layout in the header); values are JSON (or the meta value). */
export function flattenManifest(m: Pick<Manifest, 'meta' | 'tables'>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of m.meta) out.set(`m:${k}`, v);
  for (const mt of m.tables) {
    const tid = pad10(mt.spec.id);
    const rec: FlatTable = { spec: mt.spec, nextRowId: mt.nextRowId, segments: mt.segments.map((s) => s.id) };
    if (mt.lastCompaction !== undefined) rec.lastCompaction = mt.lastCompaction;
    out.set(`t:${tid}`, JSON.stringify(rec));
    for (const seg of mt.segments) out.set(`s:${tid}:${pad10(seg.id)}`, JSON.stringify(seg));
  }
  return out;
}

/** Key order with digit runs compared as numbers (`t/2` before `t/10`): meta entries come back roughly in creation order. */
function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy && x.length < 16 && y.length < 16 && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Inverse of `flattenManifest` (meta in natural key order, tables in table id order). */
export function unflattenManifest(entries: ReadonlyMap<string, string>): Pick<Manifest, 'meta' | 'tables'> {
  const meta: [string, string][] = [];
  const tables: ManifestTable[] = [];
  const segs = new Map<string, ManifestSegment>();
  const keys = [...entries.keys()].sort();
  for (const k of keys) if (k.startsWith('s:')) segs.set(k, JSON.parse(entries.get(k)!) as ManifestSegment);
  for (const k of keys) {
    const v = entries.get(k)!;
    if (k.startsWith('m:')) meta.push([k.slice(2), v]);
    else if (k.startsWith('t:')) {
      const rec = JSON.parse(v) as FlatTable;
      const tid = k.slice(2);
      const segments = rec.segments.map((id) => {
        const s = segs.get(`s:${tid}:${pad10(id)}`);
        if (s === undefined) throw new DataCorrupted(`metadata: table ${tid} names missing segment ${id}`);
        return s;
      });
      tables.push({ spec: rec.spec, nextRowId: rec.nextRowId, segments, ...(rec.lastCompaction !== undefined ? { lastCompaction: rec.lastCompaction } : {}) });
    } else if (!k.startsWith('s:')) throw new DataCorrupted(`metadata: unknown key ${JSON.stringify(k)}`);
  }
  meta.sort((x, y) => naturalCompare(x[0], y[0]));
  return { meta, tables };
}

interface FlatTable {
  spec: StoredTableSpec;
  nextRowId: number;
  segments: number[];
  lastCompaction?: number;
}
