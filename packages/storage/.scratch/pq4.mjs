import * as pw from 'parquet-wasm';
import * as arrow from 'apache-arrow';
const n = 80;
const t0 = new arrow.Table({ a: arrow.makeVector(new Int32Array(n)), s: arrow.vectorFromArray(Array.from({length:n},(_, i)=>'x'+i)) });
const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t0, 'stream')), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(16).build());
for (let rep = 0; rep < 5; rep++) {
let a = 0, b = 0, c = 0;
for (let i = 0; i < 50; i++) {
  let t = performance.now();
  const r = pw.readParquet(bytes, { rowGroups: [i % 5] });
  a += performance.now() - t; t = performance.now();
  const ipc = r.intoIPCStream();
  b += performance.now() - t; t = performance.now();
  arrow.tableFromIPC(ipc);
  c += performance.now() - t;
}
console.log('read', (a / 50).toFixed(3), 'ipc', (b / 50).toFixed(3), 'fromIPC', (c / 50).toFixed(3));
}
