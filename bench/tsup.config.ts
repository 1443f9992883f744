import { defineConfig } from 'tsup';
// The CLI (src/main.ts), the TPC-H and OLTP workers (src/tpch-worker.ts, src/oltp-worker.ts: entries of their own,
// next to main.js, where their hosts look for them) and the library entry (src/index.ts). The peer engines and
// `quiverdb` stay external: they are resolved from node_modules at run time, never bundled.
export default defineConfig({
  entry: ['src/main.ts', 'src/index.ts', 'src/tpch-worker.ts', 'src/oltp-worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  target: 'node20',
  external: ['quiverdb', '@duckdb/node-api', 'better-sqlite3', '@electric-sql/pglite', 'alasql', 'libpg-query'],
});
