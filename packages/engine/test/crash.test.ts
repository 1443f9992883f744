/**
 * SIGKILL crash test (issue 2 / issue 4): a child process runs a random mixed workload (inserts,
 * updates, deletes, now and then a bulk insert of up to 12,300 rows in key order, checkpoints,
 * compactions, and bursts of single-row autocommit INSERTs from 16 connections at once) on a
 * real directory and is killed with SIGKILL at a random moment; after every kill the directory
 * is reopened and must hold exactly the acknowledged commits (the in-flight commit wholly
 * present or wholly absent; in a burst, each in-flight single-row INSERT present or absent), and
 * every index must hold every row (Database.verifyIndexes).
 *
 * The child reports what it does (fixtures/crash-child.mjs) in lines written to the pipe with
 * write(2) before it goes on, so that the kill never loses a line the parent needs: its
 * process.stdout, asynchronous on a pipe, queued lines in the process once the pipe was full (the
 * parent busy or starved), and a kill then took them along. The parent, not knowing of the
 * transactions and burst INSERTs they announced, saw a table holding more than the acknowledged
 * commits; every ninth child runs with a stalled parent to keep that failure out.
 *
 * The child runs the BUILT package (`pnpm test` builds first). Iterations: QUIVER_CRASH_ITERATIONS
 * (default 50; the long mode used before resolving issue 4 runs 1,000).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database } from '../src/index.js';
import { apply, checkReopened, type Op } from './crash-model.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'fixtures', 'crash-child.mjs');
const built = existsSync(join(here, '..', 'dist', 'index.js'));
const ITERATIONS = Number(process.env.QUIVER_CRASH_ITERATIONS ?? 50);
/** Keep a copy of the directory as the kill left it (before recovery) for the post-mortem of a failure. */
const FORENSICS = process.env.QUIVER_CRASH_FORENSICS === '1';

/**
 * Run the child; SIGKILL it `killAfterMs` after it has acknowledged `afterAcks` commits (so every
 * iteration makes progress however loaded the machine is, and the kill still lands at a random
 * moment of the workload).
 */
function runChild(dir: string, seed: number, afterAcks: number, killAfterMs: number, stall: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(here, '..') });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    let acks = 0;
    let scanned = 0; // acks counted in out[0, scanned)
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let at; (at = out.indexOf('\nack ', scanned)) >= 0; scanned = at + 1) acks++;
      scanned = Math.max(scanned, out.length - 4); // (a '\nack ' split between chunks is found next time)
      if (timer === undefined && out.includes('ready\n') && acks >= afterAcks) {
        timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
        // a parent that gets no CPU until the kill (a loaded machine) reads nothing meanwhile: the
        // child's report lines must reach the pipe before it goes on all the same (a child that
        // queued them in the process, as process.stdout does on a full pipe, lost them at the
        // kill, and this test then failed on a table holding more than the lost lines said)
        if (stall) for (const t0 = Date.now(); Date.now() - t0 < killAfterMs + 20;) { /* busy */ }
      }
    });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    // 'close', not 'exit': 'exit' may come before the last of the child's output is read
    p.on('close', (_code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own: ${err}`));
      else resolve(out.split('\n'));
    });
  });
}

describe.skipIf(!built)('SIGKILL crash recovery', () => {
  it(`keeps exactly the acknowledged commits over ${ITERATIONS} kills`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-crash-'));
    let passed = false;
    const model = new Map<number, number>();
    let acked = 0;
    let burstAcked = 0;
    let inflightSeen = 0;
    try {
      for (let it = 0; it < ITERATIONS; it++) {
        // every third child lives longer, 100-600 ms: past the switch to a preallocated WAL segment
        // (its spare is written in the background, ~100 ms after the first commit), which the
        // shorter lives seldom reach; every ninth lives 1.2 s with a stalled parent (see runChild):
        // more report lines than the pipe holds
        const stall = it % 9 === 8;
        const killAfterMs = stall ? 1200 : it % 3 === 2 ? 100 + ((it * 7919) % 500) : (it * 7919) % 60;
        const lines = await runChild(dir, 1000 + it, it % 6, killAfterMs, stall);
        let pending: Op[] | undefined;
        const burstPending = new Map<number, number>(); // a burst's INSERTs not acknowledged: id -> v
        for (const line of lines) {
          if (line.startsWith('pending ')) pending = JSON.parse(line.slice(8)) as Op[];
          else if (line.startsWith('ack ')) {
            apply(model, pending!);
            pending = undefined;
            acked++;
          } else if (line.startsWith('cpending ')) {
            const [id, v] = line.slice(9).split(' ').map(Number) as [number, number];
            burstPending.set(id, v);
          } else if (line.startsWith('cack ')) {
            const id = Number(line.slice(5));
            model.set(id, burstPending.get(id)!);
            burstPending.delete(id);
            burstAcked++;
          }
        }
        if (FORENSICS) {
          rmSync(`${dir}.before`, { recursive: true, force: true });
          cpSync(dir, `${dir}.before`, { recursive: true });
        }
        const db = await Database.open(dir);
        let rows: [number, number, string][];
        try {
          rows = (await db.connect().query('SELECT id, v, s FROM kv ORDER BY id')).rows as [number, number, string][];
          // the primary key's index must hold every row: the next child's UPDATEs and DELETEs find rows through it
          await db.verifyIndexes();
        } finally {
          await db.close();
        }
        inflightSeen += checkReopened(`iteration ${it} (kill ${killAfterMs} ms after ${it % 6} acks)`, rows, model, pending, burstPending,
          `\nlast lines of the child:\n${lines.slice(-40).join('\n')}`);
      }
      expect(acked).toBeGreaterThanOrEqual([...Array(ITERATIONS).keys()].reduce((n, it) => n + (it % 6), 0));
      console.log(`crash test: ${ITERATIONS} kills, ${acked} acknowledged transactions and ${burstAcked} acknowledged burst INSERTs verified, ${inflightSeen} in-flight commits found durable`);
      passed = true;
    } finally {
      if (passed) {
        rmSync(dir, { recursive: true, force: true });
        rmSync(`${dir}.before`, { recursive: true, force: true });
      } else console.log(`crash test failed: directory kept at ${dir}${FORENSICS ? ` (as the last kill left it: ${dir}.before)` : ''}`);
    }
  }, Math.max(600_000, ITERATIONS * 4_000)); // long mode: about 1 s a kill on a loaded machine
});
