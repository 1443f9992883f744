import * as pw from 'parquet-wasm';
import * as arrow from 'apache-arrow';
const n = 16;
const a = new Int32Array(n).map((_, i) => i);
const t0 = new arrow.Table({ a: arrow.makeVector(a) });
const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t0, 'stream')));
const pf = await pw.ParquetFile.fromFile(new Blob([bytes]));
let r1 = 0, r2 = 0, r3 = 0;
for (let i = 0; i < 50; i++) {
  let t = performance.now();
  const r = await pf.read({ rowGroups: [0], columns: ['a'] });
  r1 += performance.now() - t; t = performance.now();
  const ipc = r.intoIPCStream();
  r2 += performance.now() - t; t = performance.now();
  arrow.tableFromIPC(ipc);
  r3 += performance.now() - t;
}
console.log('read', r1 / 50, 'ipc', r2 / 50, 'fromIPC', r3 / 50);
let t = performance.now();
for (let i = 0; i < 50; i++) pw.readParquet(bytes);
console.log('sync read', (performance.now() - t) / 50);
