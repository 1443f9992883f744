/**
 * Structured one-line logs: every record is a single JSON object on its own line,
 * `{"ts":"2026-01-01T00:00:00.000Z","level":"info","msg":"...", ...fields}`, written to stdout.
 *
 * Invariants:
 *  1. A record never spans lines (JSON.stringify escapes newlines inside values).
 *  2. Records below the configured level are not written.
 */
import type { ServerLogger } from '@quiverdb/server';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(s: string): s is LogLevel {
  return s in RANK;
}

export interface JsonLogger extends ServerLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export function createJsonLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): JsonLogger {
  const min = RANK[level];
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[lvl] < min) return;
    const record = { ts: new Date().toISOString(), level: lvl, msg, ...fields };
    write(`${JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v))}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}
