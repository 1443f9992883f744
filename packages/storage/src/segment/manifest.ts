/**
 * The manifest: the metadata root of a checkpoint (tables, segments with zone maps and persisted
 * delete vectors, committed metadata entries, the WAL LSN to replay from).
 *
 *   MANIFEST-<n> := "QMF1" crc:u32 len:u32 json[len]        crc = CRC32C(json)
 *   CURRENT      := "MANIFEST-<n>\n"
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
  meta: [string, string][];
  tables: ManifestTable[];
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
