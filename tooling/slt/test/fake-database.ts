/**
 * A scripted stand-in for `quiverdb` in the runner's unit tests: answers from a table of canned
 * results, keeps per-connection variables (`SET name = value` / `SHOW name`) to tell connections
 * apart, and can hang (`HANG`) or fail with a SQLSTATE (`FAIL <code>`).
 */
import type { OpenDatabase, SltConnection, SltDatabase, SltQueryResult } from '../src/database.js';

export class FakeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface Canned {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

export interface FakeDbLog {
  opened: string[];
  closed: number;
  connections: number;
  closedConnections: number;
}

export function fakeOpener(canned: Record<string, Canned>, log: FakeDbLog = { opened: [], closed: 0, connections: 0, closedConnections: 0 }): OpenDatabase {
  return async (path: string): Promise<SltDatabase> => {
    log.opened.push(path);
    const tables = new Set<string>();
    return {
      connect(): SltConnection {
        log.connections++;
        const vars = new Map<string, string>();
        return {
          async query(sql: string): Promise<SltQueryResult> {
            await Promise.resolve();
            const s = sql.trim();
            let m: RegExpExecArray | null;
            if (s === 'HANG') return new Promise(() => undefined);
            if ((m = /^FAIL (\w{5})$/.exec(s)) !== null) throw new FakeError(m[1]!, `failure ${m[1]}`);
            if ((m = /^CREATE TABLE (\w+)$/.exec(s)) !== null) {
              if (tables.has(m[1]!)) throw new FakeError('42P07', `relation "${m[1]}" already exists`);
              tables.add(m[1]!);
              return { columns: [], rows: [], rowCount: 0, command: 'CREATE TABLE' };
            }
            if ((m = /^SET (\w+) = (\S+)$/.exec(s)) !== null) {
              vars.set(m[1]!, m[2]!);
              return { columns: [], rows: [], rowCount: 0, command: 'SET' };
            }
            if ((m = /^SHOW (\w+)$/.exec(s)) !== null) {
              return { columns: [{ name: m[1]!, type: 'TEXT' }], rows: [[vars.get(m[1]!) ?? null]], rowCount: 1, command: 'SHOW' };
            }
            const c = canned[s];
            if (c === undefined) throw new FakeError('42601', `syntax error in ${s}`);
            return { columns: c.columns.map((name) => ({ name, type: 'INTEGER' })), rows: c.rows, rowCount: c.rows.length, command: 'SELECT' };
          },
          async close(): Promise<void> {
            log.closedConnections++;
          },
        };
      },
      async close(): Promise<void> {
        log.closed++;
      },
    };
  };
}
