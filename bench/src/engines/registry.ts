/** Adapter factories by engine name. */
import type { EngineAdapter, EngineName } from './adapter.js';
import { AlasqlAdapter } from './alasql.js';
import { DuckDbAdapter } from './duckdb.js';
import { PgliteAdapter } from './pglite.js';
import { QuiverAdapter } from './quiverdb.js';
import { SqliteAdapter } from './sqlite.js';

export function createAdapter(name: EngineName): EngineAdapter {
  switch (name) {
    case 'quiverdb': return new QuiverAdapter();
    case 'duckdb': return new DuckDbAdapter();
    case 'sqlite': return new SqliteAdapter();
    case 'pglite': return new PgliteAdapter();
    case 'alasql': return new AlasqlAdapter();
  }
}
