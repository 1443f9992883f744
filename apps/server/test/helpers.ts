/**
 * Helpers for the end-to-end tests: spawn the BUILT bin (dist/quiver-server.js), read its JSON
 * log lines, find the ports it bound, and a `pg` client.
 *
 * `pg` is a devDependency of the sibling package @quiverdb/server, not of this app; it is
 * loaded from there (createRequire) so this package's manifest stays as it is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bin = path.join(appDir, 'dist', 'quiver-server.js');

export interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null; command: string }>;
  end(): Promise<void>;
  on(event: 'error', cb: (err: Error) => void): void;
}
export interface PgModule {
  Client: new (config: { host: string; port: number; user: string; database?: string; password?: string }) => PgClient;
}
export const pg = createRequire(path.resolve(appDir, '../../packages/server/package.json'))('pg') as PgModule;

export interface LogRecord {
  ts: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

export class ServerProcess {
  readonly logs: LogRecord[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];
  private buf = '';

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogRecord);
        } catch {
          this.logs.push({ ts: '', level: 'raw', msg: line });
        }
        for (const w of this.waiters.splice(0)) w();
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { this.stderr += d; });
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => { // (after the last output: 'exit' may come before it is read)
      for (const w of this.waiters.splice(0)) w();
      resolve({ code, signal });
    }));
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: build first (pnpm test builds; or pnpm turbo run build --filter=@quiverdb/server-app...)`);
    return new ServerProcess(spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Wait for a log record matching `pred` (or the process to exit). */
  async waitForLog(pred: (r: LogRecord) => boolean, ms = 20_000): Promise<LogRecord> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.logs.find(pred);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > end) {
        throw new Error(`log record not found (exit ${this.child.exitCode}); logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr}`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  async ready(): Promise<{ httpPort: number; pgPort: number }> {
    const r = await this.waitForLog((l) => l.msg === 'ready');
    return { httpPort: r['httpPort'] as number, pgPort: r['pgPort'] as number };
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
}

export async function postQuery(httpPort: number, sql: string, params?: unknown[]): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params === undefined ? { sql } : { sql, params }),
  });
  return { status: res.status, body: await res.json() };
}
