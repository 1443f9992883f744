/**
 * The slice of the `quiverdb` embedded API (ARCHITECTURE.md section 4) the runner needs, as
 * structural types, so the runner also drives other engines in tests (a fake, or an adapter).
 *
 * `openQuiverDatabase` is the default opener: it loads `quiverdb` lazily, so parsing, formatting
 * and the report code work (and are unit-tested) without the engine.
 */

import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface SltColumn {
  readonly name: string;
  readonly type: string;
}

export interface SltQueryResult {
  readonly columns: readonly SltColumn[];
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly command: string;
}

export interface SltConnection {
  query(sql: string, params?: unknown[]): Promise<SltQueryResult>;
  close(): Promise<void>;
}

export interface SltDatabase {
  connect(): SltConnection | Promise<SltConnection>;
  close(): Promise<void>;
}

/** Opens (creating if missing) the database at `path`, or an in-memory one for ':memory:'. */
export type OpenDatabase = (path: string) => Promise<SltDatabase>;

/**
 * Default opener: `Database.open` of the `quiverdb` package, or of the module named by the
 * QUIVER_SLT_ENGINE environment variable (a package name or a file path exporting a `Database`
 * with the same contract: how the runner's own tests drive `--isolate` with a scripted engine).
 */
export const openQuiverDatabase: OpenDatabase = async (path) => {
  const mod = (await import(engineModule())) as { Database: { open(path: string): Promise<SltDatabase> } };
  return mod.Database.open(path);
};

function engineModule(): string {
  const override = process.env.QUIVER_SLT_ENGINE;
  if (override === undefined || override === '') return 'quiverdb';
  return isAbsolute(override) || override.startsWith('.') || existsSync(override) ? pathToFileURL(resolve(override)).href : override;
}

/** SQLSTATE of a thrown error (a `DbError` carries it in `code`), or undefined. */
export function sqlStateOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** One-line description of a thrown error for reports. */
export function describeError(err: unknown): string {
  const code = sqlStateOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  const firstLine = msg.split('\n', 1)[0] ?? '';
  return code === undefined ? firstLine : `${firstLine} (SQLSTATE ${code})`;
}
