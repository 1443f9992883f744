/**
 * Parquet segment files: ColumnVectors ⇄ Arrow (built from typed arrays with `makeData`, never
 * per-value builders) ⇄ Parquet (parquet-wasm). Reads go through `ParquetFile` so only the row
 * groups and columns asked for are decoded.
 *
 * Physical type → Arrow type in the file (readable by DuckDB and other engines):
 *   bool Bool · int16 Int16 · int32 Int32 · int64 Int64 · float32 Float32 · float64 Float64 ·
 *   date32 Date32 (days) · timestamp_us Timestamp(µs) · utf8 Utf8 · json Utf8 (JSON text)
 *
 * Invariants:
 *  1. readRowGroup(write(v)) returns the same values and NULLs (float32 values are fround'ed
 *     already in vectors, so the round trip is exact).
 */
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { ColumnVector, PhysicalType } from '@quiverdb/common';
import { jsonDecode, jsonEncode } from '../table/json-value.js';
import { decodeStrings, encodeStrings } from '../table/utf8.js';
import { sliceVector } from '../table/column-ops.js';
import { concatBytes } from '../wal/bytes.js';

export type SegmentCodec = 'uncompressed' | 'snappy' | 'zstd' | 'lz4';

export interface SegmentColumn {
  readonly name: string;
  readonly type: PhysicalType;
}


function packBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bytes[i] !== 0) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function unpackBits(bits: Uint8Array, offset: number, n: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < n; i++) {
    const j = i + offset;
    out[at + i] = (bits[j >> 3]! >> (j & 7)) & 1;
  }
}

function arrowType(t: PhysicalType): arrow.DataType {
  switch (t) {
    case 'bool': return new arrow.Bool();
    case 'int16': return new arrow.Int16();
    case 'int32': return new arrow.Int32();
    case 'int64': return new arrow.Int64();
    case 'float32': return new arrow.Float32();
    case 'float64': return new arrow.Float64();
    case 'date32': return new arrow.DateDay();
    case 'timestamp_us': return new arrow.TimestampMicrosecond();
    case 'utf8': case 'json': return new arrow.Utf8();
  }
}

function toArrowData(t: PhysicalType, v: ColumnVector, n: number): arrow.Data {
  const type = arrowType(t);
  let nullCount = 0;
  let nullBitmap: Uint8Array | undefined;
  if (v.validity !== null) {
    for (let i = 0; i < n; i++) if (v.validity[i] === 0) nullCount++;
    if (nullCount > 0) nullBitmap = packBits(v.validity, n);
  }
  const base = { type, length: n, nullCount, nullBitmap } as const;
  const d = v.data;
  switch (t) {
    case 'bool': return arrow.makeData({ ...base, type: type as arrow.Bool, data: packBits(d as Uint8Array, n) });
    case 'int16': return arrow.makeData({ ...base, type: type as arrow.Int16, data: Int16Array.from((d as Int32Array).subarray(0, n)) });
    case 'int32': return arrow.makeData({ ...base, type: type as arrow.Int32, data: (d as Int32Array).subarray(0, n) });
    case 'date32': return arrow.makeData({ ...base, type: type as arrow.DateDay, data: (d as Int32Array).subarray(0, n) });
    case 'int64': return arrow.makeData({ ...base, type: type as arrow.Int64, data: (d as BigInt64Array).subarray(0, n) });
    case 'float32': return arrow.makeData({ ...base, type: type as arrow.Float32, data: Float32Array.from((d as Float64Array).subarray(0, n)) });
    case 'float64': return arrow.makeData({ ...base, type: type as arrow.Float64, data: (d as Float64Array).subarray(0, n) });
    case 'timestamp_us': {
      const src = d as Float64Array;
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(src[i]!));
      return arrow.makeData({ ...base, type: type as arrow.TimestampMicrosecond, data: out as unknown as Int32Array });
    }
    case 'utf8': case 'json': {
      const { bytes, offsets: offs } = t === 'json' ? encodeStrings(d as unknown[], n, jsonEncode) : encodeStrings(d as unknown[], n);
      return arrow.makeData({ ...base, type: type as arrow.Utf8, valueOffsets: offs, data: bytes });
    }
  }
}

export function compression(c: SegmentCodec): pw.Compression {
  switch (c) {
    case 'uncompressed': return pw.Compression.UNCOMPRESSED;
    case 'snappy': return pw.Compression.SNAPPY;
    case 'zstd': return pw.Compression.ZSTD;
    case 'lz4': return pw.Compression.LZ4_RAW;
  }
}

/** Values a string column's dictionary decision looks at (evenly spaced over the segment). */
const DICTIONARY_SAMPLE = 8192;

/**
 * Does a string column repeat its values enough for a dictionary? Distinct values among up to
 * DICTIONARY_SAMPLE evenly spaced non-NULL values must be at most a quarter of them. Mostly
 * distinct strings (names, keys, comments) are written plain: measured on 550 k unique ~10-char
 * strings + 3 numeric columns, the dictionary (which overflows and falls back) made the encode
 * 1.6x slower, the file 6 % larger and the decode 1.3x slower (README).
 */
export function wantsDictionary(v: ColumnVector, n: number): boolean {
  return wantsDictionaryIn([{ rows: n, vectors: [v] }], 0);
}

/** `wantsDictionary` of column `col` of the row groups `groups` taken as one segment. */
function wantsDictionaryIn(groups: readonly RowGroupData[], col: number): boolean {
  let n = 0;
  for (const g of groups) n += g.rows;
  const step = n <= DICTIONARY_SAMPLE ? 1 : n / DICTIONARY_SAMPLE;
  const seen = new Set<unknown>();
  let sampled = 0;
  let gi = 0;
  let base = 0;
  for (let x = 0; x < n; x += step) {
    const i = Math.floor(x);
    while (i >= base + groups[gi]!.rows) base += groups[gi++]!.rows;
    const v = groups[gi]!.vectors[col]!;
    if (v.validity !== null && v.validity[i - base] === 0) continue;
    seen.add((v.data as ArrayLike<unknown>)[i - base]);
    sampled++;
  }
  return seen.size * 4 <= sampled;
}

/** Names of the string columns written with a dictionary (see `wantsDictionaryIn`); none when `dictionary` is false. */
export function dictionaryColumns(cols: readonly SegmentColumn[], dictionary: boolean, groups?: readonly RowGroupData[]): string[] {
  if (!dictionary) return [];
  return cols.filter((c, i) => c.type === 'utf8' && (groups === undefined || wantsDictionaryIn(groups, i))).map((c) => c.name);
}

/**
 * The writer's settings. No Parquet min/max statistics: the zone maps in the manifest are ours
 * (computed before the encode, zone-map.ts), and the writer's own page and chunk statistics were a
 * second pass over every value (measured: 1 M kv rows encoded in 203 ms without, 262 ms with;
 * README). Dictionary encoding costs ~4x in write time on numeric columns for little gain
 * (README): only the `dictionary` columns (strings that repeat their values) get it. The encode
 * worker (encode-worker.ts) builds the same settings from the same arguments.
 */
export function writerProps(rowGroupSize: number, compression: pw.Compression, dictionary: readonly string[]): pw.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setMaxRowGroupSize(rowGroupSize)
    .setCompression(compression)
    .setCreatedBy('quiverdb')
    .setStatisticsEnabled(pw.EnabledStatistics.None)
    .setDictionaryEnabled(false);
  for (const name of dictionary) b = b.setColumnDictionaryEnabled(name, true);
  return b.build();
}

/** Arrow IPC stream of `n` rows of `vectors`. */
export function toIpc(cols: readonly SegmentColumn[], vectors: readonly ColumnVector[], n: number): Uint8Array {
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  cols.forEach((c, i) => {
    const data = toArrowData(c.type, vectors[i]!, n);
    fields.push(new arrow.Field(c.name, data.type, true));
    children.push(data);
  });
  const schema = new arrow.Schema(fields);
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children });
  return arrow.tableToIPC(new arrow.Table(schema, new arrow.RecordBatch(schema, struct)), 'stream');
}

/** Encode `n` rows as a Parquet file with row groups of `rowGroupSize` (synchronous). */
export function encodeSegment(cols: readonly SegmentColumn[], vectors: readonly ColumnVector[], n: number, rowGroupSize: number, codec: SegmentCodec = 'snappy', dictionary = true): Uint8Array {
  return pw.writeParquet(pw.Table.fromIPCStream(toIpc(cols, vectors, n)), writerProps(rowGroupSize, compression(codec), dictionaryColumns(cols, dictionary, [{ rows: n, vectors }])));
}

/** One row group's rows: `vectors[c]` holds column c's values in slots 0 .. rows - 1. */
export interface RowGroupData {
  readonly rows: number;
  readonly vectors: readonly ColumnVector[];
}

/** `n` rows of whole-segment `vectors` cut into row groups of `rowGroupSize` (views, no copy of typed arrays). */
export function splitRowGroups(vectors: readonly ColumnVector[], n: number, rowGroupSize: number): RowGroupData[] {
  const out: RowGroupData[] = [];
  for (let off = 0; off < n || out.length === 0; off += rowGroupSize) {
    const end = Math.min(n, off + rowGroupSize);
    out.push({ rows: end - off, vectors: vectors.map((v) => sliceVector(v, off, end)) });
  }
  return out;
}

/**
 * Encode like `encodeSegment`, one row group at a time through parquet-wasm's streaming writer,
 * yielding to the event loop between row groups: a checkpoint of a large delta never blocks
 * commits for longer than one row group's encoding.
 */
export async function encodeSegmentAsync(cols: readonly SegmentColumn[], vectors: readonly ColumnVector[], n: number, rowGroupSize: number, codec: SegmentCodec = 'snappy', dictionary = true): Promise<Uint8Array> {
  if (n <= rowGroupSize) return encodeSegment(cols, vectors, n, rowGroupSize, codec, dictionary);
  return encodeRowGroupsAsync(cols, splitRowGroups(vectors, n, rowGroupSize), rowGroupSize, codec, dictionary);
}

/**
 * `encodeSegmentAsync` of rows already cut into row groups (each at most `rowGroupSize` rows, all
 * but the last exactly that many): one Parquet row group per element, no slicing copies.
 */
export async function encodeRowGroupsAsync(cols: readonly SegmentColumn[], groups: readonly RowGroupData[], rowGroupSize: number, codec: SegmentCodec = 'snappy', dictionary = true): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const total = await encodeRowGroupsTo(cols, groups, rowGroupSize, codec, dictionary, (c) => chunks.push(c));
  return concatBytes(chunks, total);
}

/**
 * `encodeRowGroupsAsync` handing the file's bytes to `sink` as the writer produces them (about
 * one chunk per row group, then the footer; their concatenation is the file), so the caller can
 * write a row group while the next one is encoded. Returns the file's size.
 */
export async function encodeRowGroupsTo(cols: readonly SegmentColumn[], groups: readonly RowGroupData[], rowGroupSize: number, codec: SegmentCodec, dictionary: boolean, sink: (chunk: Uint8Array) => void): Promise<number> {
  if (groups.length === 1) {
    const bytes = encodeSegment(cols, groups[0]!.vectors, groups[0]!.rows, rowGroupSize, codec, dictionary);
    sink(bytes);
    return bytes.length;
  }
  let next = 0;
  const input = new ReadableStream<pw.RecordBatch>({
    async pull(ctrl): Promise<void> {
      await new Promise<void>((r) => setImmediate(r));
      if (next >= groups.length) { ctrl.close(); return; }
      const g = groups[next++]!;
      const rb = pw.Table.fromIPCStream(toIpc(cols, g.vectors, g.rows)).recordBatch(0);
      if (rb === undefined) throw new Error('parquet encode: empty IPC stream');
      ctrl.enqueue(rb);
    },
  });
  const out = await pw.transformParquetStream(input, writerProps(rowGroupSize, compression(codec), dictionaryColumns(cols, dictionary, groups)));
  let total = 0;
  const reader = (out as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    sink(value);
    total += value.length;
  }
  return total;
}

export function fromArrow(t: PhysicalType, vec: arrow.Vector, n: number): ColumnVector {
  let validity: Uint8Array | null = null;
  if (vec.nullCount > 0) {
    validity = new Uint8Array(n);
    let at = 0;
    for (const d of vec.data) {
      if (d.nullBitmap !== undefined && d.nullBitmap.length > 0 && d.nullCount > 0) unpackBits(d.nullBitmap, d.offset, d.length, validity, at);
      else validity.fill(1, at, at + d.length);
      at += d.length;
    }
  }
  let data: ColumnVector['data'];
  switch (t) {
    case 'bool': {
      const out = new Uint8Array(n);
      let at = 0;
      for (const d of vec.data) { unpackBits(d.values as Uint8Array, d.offset, d.length, out, at); at += d.length; }
      data = out;
      break;
    }
    case 'int16': case 'int32': case 'date32': {
      const out = new Int32Array(n);
      let at = 0;
      for (const d of vec.data) { out.set((d.values as Int32Array | Int16Array).subarray(d.offset, d.offset + d.length), at); at += d.length; }
      data = out;
      break;
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      let at = 0;
      for (const d of vec.data) { out.set((d.values as BigInt64Array).subarray(d.offset, d.offset + d.length), at); at += d.length; }
      data = out;
      break;
    }
    case 'float32': case 'float64': {
      const out = new Float64Array(n);
      let at = 0;
      for (const d of vec.data) { out.set((d.values as Float64Array | Float32Array).subarray(d.offset, d.offset + d.length), at); at += d.length; }
      data = out;
      break;
    }
    case 'timestamp_us': {
      const out = new Float64Array(n);
      let at = 0;
      for (const d of vec.data) {
        const v = d.values as unknown as BigInt64Array;
        for (let i = 0; i < d.length; i++) out[at + i] = Number(v[d.offset + i]!);
        at += d.length;
      }
      data = out;
      break;
    }
    case 'utf8': case 'json': {
      const out = new Array<unknown>(n);
      let at = 0;
      for (const d of vec.data) {
        const offs = d.valueOffsets as Int32Array;
        const bytes = d.values as Uint8Array;
        decodeStrings(bytes, offs, d.offset, d.length, out, at);
        if (t === 'json') for (let i = 0; i < d.length; i++) out[at + i] = validity !== null && validity[at + i] === 0 ? null : jsonDecode(out[at + i] as string);
        at += d.length;
      }
      data = out;
      break;
    }
  }
  return { data, validity };
}

export interface RowGroupInfo { readonly rows: number }

/** Row group sizes of a parquet file. */
export function rowGroupsOf(pf: pw.ParquetFile): RowGroupInfo[] {
  const md = pf.metadata();
  const out: RowGroupInfo[] = [];
  for (let i = 0; i < md.numRowGroups(); i++) out.push({ rows: md.rowGroup(i).numRows() });
  return out;
}

export async function openParquet(blob: Blob): Promise<pw.ParquetFile> {
  return pw.ParquetFile.fromFile(blob);
}

/**
 * Decode row group `rg` of a whole file held in memory (sync `readParquet`: it decodes every
 * column, so this is for small files, where it beats the async reader's fixed cost by ~100x).
 */
export function readRowGroupFromBytes(bytes: Uint8Array, rg: number, rows: number, cols: readonly SegmentColumn[]): ColumnVector[] {
  const wt = pw.readParquet(bytes, { rowGroups: [rg], batchSize: Math.max(1, rows) });
  const t = arrow.tableFromIPC(wt.intoIPCStream());
  return cols.map((c) => {
    const v = t.getChild(c.name);
    if (v === null) throw new Error(`segment has no column ${c.name}`);
    return fromArrow(c.type, v, rows);
  });
}

/** Decode the columns `cols` of row group `rg` (only those column chunks are read). */
export async function readRowGroup(pf: pw.ParquetFile, rg: number, rows: number, cols: readonly SegmentColumn[]): Promise<ColumnVector[]> {
  const wt = await pf.read({ rowGroups: [rg], columns: cols.map((c) => c.name), batchSize: Math.max(1, rows) });
  const t = arrow.tableFromIPC(wt.intoIPCStream());
  return cols.map((c) => {
    const v = t.getChild(c.name);
    if (v === null) throw new Error(`segment has no column ${c.name}`);
    return fromArrow(c.type, v, rows);
  });
}
