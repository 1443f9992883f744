/** Test helpers: run SQL against a MemoryCatalog through the package's public API. */
import { initSql, parseSql, executeStatement, resultRows, MemoryCatalog } from '../src/index.js';
import type { QueryResult, SessionContext } from '../src/index.js';

export interface TestDb {
  ctx: SessionContext;
  exec(sql: string, params?: unknown[]): Promise<QueryResult>;
  rows(sql: string, params?: unknown[]): Promise<unknown[][]>;
  code(sql: string, params?: unknown[]): Promise<string | undefined>;
}

export async function testDb(settings: Record<string, string> = {}): Promise<TestDb> {
  await initSql();
  const ctx: SessionContext = { catalog: new MemoryCatalog(), params: [], settings: new Map(Object.entries(settings)), txnStartTime: new Date('2024-03-05T12:34:56Z') };
  const exec = async (sql: string, params: unknown[] = []): Promise<QueryResult> => {
    let r: QueryResult | undefined;
    for (const s of parseSql(sql)) r = await executeStatement(s, { ...ctx, params });
    return r!;
  };
  return {
    ctx,
    exec,
    rows: async (sql, params) => resultRows(await exec(sql, params)),
    code: async (sql, params) => {
      try { await exec(sql, params); return undefined; } catch (e) { return (e as { code?: string }).code ?? 'no code'; }
    },
  };
}

