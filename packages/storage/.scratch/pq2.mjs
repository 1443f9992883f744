import * as pw from 'parquet-wasm';
import * as arrow from 'apache-arrow';
const mk = (n) => {
  const a = new Int32Array(n).map((_, i) => i);
  const b = new Float64Array(n).map((_, i) => i * 1.5);
  const c = new Float64Array(n).map((_, i) => i * 2.5);
  const t = new arrow.Table({ a: arrow.makeVector(a), b: arrow.makeVector(b), c: arrow.makeVector(c) });
  return pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(Math.min(n, 122880)).setCompression(pw.Compression.SNAPPY).build());
};
for (const n of [16, 100000, 1000000]) {
  const bytes = mk(n);
  const pf = await pw.ParquetFile.fromFile(new Blob([bytes]));
  let t = performance.now();
  for (let i = 0; i < 20; i++) { const r = await pf.read({ rowGroups: [0], columns: ['b'], batchSize: 200000 }); arrow.tableFromIPC(r.intoIPCStream()); }
  const asyncMs = (performance.now() - t) / 20;
  t = performance.now();
  for (let i = 0; i < 20; i++) { const r = pw.readParquet(bytes, { rowGroups: [0], columns: ['b'], batchSize: 200000 }); const at = arrow.tableFromIPC(r.intoIPCStream()); if (i==0) console.log('sync cols', at.schema.fields.map(f=>f.name)); }
  const syncMs = (performance.now() - t) / 20;
  console.log(n, 'async', asyncMs.toFixed(2), 'sync', syncMs.toFixed(2));
}
