/**
 * Process-crash test on the real file system: a child process (kill-child.ts, bundled with
 * esbuild) commits in a loop with background checkpoints / compactions and is SIGKILLed at a
 * random moment; the parent reopens the directory and checks the table equals exactly the
 * acknowledged commits (the one in flight wholly present or wholly absent), then starts the next
 * child on the same directory. 3 iterations by default, QUIVER_KILL_ITERATIONS=N for more.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TableId, Timestamp, TxnId } from '@quiverdb/common';
import { NodeEnv } from '../src/env/node-env.js';
import { openStore } from '../src/store.js';
import { rng, scanAll } from '../src/test-support.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
// esbuild comes with tsup (a root devDependency); resolve it from there, as a clean install has no
// esbuild bin of its own at the root
const esbuild = createRequire(createRequire(import.meta.url).resolve('tsup'))('esbuild') as { buildSync(opts: object): unknown };
const T = 7 as TableId;
const ITER = Number(process.env.QUIVER_KILL_ITERATIONS ?? 3);
const stats = { bgDone: 0, killedDuringBg: 0 };

interface Commit { create?: boolean; ins: [number, number][]; del: number[] }

function bundle(): string {
  const outDir = join(pkg, 'node_modules', '.cache', 'quiver-kill');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `kill-child-${process.pid}.mjs`);
  esbuild.buildSync({
    entryPoints: [join(here, 'kill-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20',
    conditions: ['@quiverdb/source'], external: ['parquet-wasm', 'apache-arrow'], outfile: out, logLevel: 'error',
  });
  return out;
}

function runChild(script: string, dir: string, seed: number, killAfterMs: number): Promise<{ acked: Commit[]; inflight: Commit | undefined; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, dir, String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: Commit[] = [];
    let inflight: Commit | undefined;
    let buf = '';
    let error: string | undefined;
    let bgRunning = 0;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = JSON.parse(line) as { t: string } & Commit & { message?: string };
        if (m.t === 'begin') inflight = { create: m.create, ins: m.ins, del: m.del };
        else if (m.t === 'ack') { acked.push(inflight!); inflight = undefined; }
        else if (m.t === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        else if (m.t === 'error') error = m.message;
        else if (m.t === 'bg-start') bgRunning++;
        else if (m.t === 'bg-done') { bgRunning--; stats.bgDone++; }
      }
    });
    child.on('close', () => { // (not 'exit': it may come before the last output is read)
      if (bgRunning > 0) stats.killedDuringBg++;
      resolve({ acked, inflight, error });
    });
  });
}

describe('SIGKILL crash test (NodeEnv, child process)', () => {
  it(`${ITER} kills at random moments lose no acknowledged commit and show no partial one`, async () => {
    const script = bundle();
    const dir = mkdtempSync(join(tmpdir(), 'quiver-kill-'));
    const r = rng(77);
    let model = new Map<number, number>(); // row id -> key
    let tableExists = false;
    let inflightSeen = 0;
    try {
      for (let it = 0; it < ITER; it++) {
        const res = await runChild(script, dir, 1000 + it, 30 + Math.floor(r() * 1000));
        expect(res.error).toBeUndefined();
        if (process.env.QDEBUG) console.log(`child ${it}: ${res.acked.length} acked`);
        const apply = (base: Map<number, number>, cs: Commit[]): Map<number, number> => {
          const m = new Map(base);
          for (const c of cs) { for (const [id, k] of c.ins) m.set(id, k); for (const id of c.del) m.delete(id); }
          return m;
        };
        const acked = apply(model, res.acked);
        const withInflight = res.inflight === undefined ? undefined : apply(acked, [res.inflight]);
        if (res.acked.some((c) => c.create)) tableExists = true;
        const s = await openStore({ env: new NodeEnv(), dir });
        try {
          if (!s.hasTable(T)) {
            expect(tableExists).toBe(false);
            continue;
          }
          tableExists = true;
          const got = await scanAll(s, T, { txnId: 1 as TxnId, startTs: (s.recoveredCommitTs + 1) as Timestamp });
          const gotMap = new Map(got.map((g) => [g.id, g.row[0]]));
          const same = (m: Map<number, number>): boolean => m.size === gotMap.size && [...m].every(([id, k]) => gotMap.get(id) === k);
          if (same(acked)) model = acked;
          else if (withInflight !== undefined && same(withInflight)) { model = withInflight; inflightSeen++; }
          else expect([...gotMap.keys()].sort((a, b) => a - b), `iteration ${it}`).toEqual([...acked.keys()].sort((a, b) => a - b));
          s.checkInvariants();
        } finally {
          await s.close();
        }
      }
      expect(model.size).toBeGreaterThan(0);
      console.log(`kill test: ${ITER} iterations, ${model.size} rows at the end, in-flight commit present after ${inflightSeen} kills, ${stats.bgDone} checkpoints/compactions completed in children, ${stats.killedDuringBg} kills during one`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(script, { force: true });
    }
  }, 60_000 + ITER * 10_000);
});
