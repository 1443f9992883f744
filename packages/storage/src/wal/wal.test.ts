import { describe, expect, it } from 'vitest';
import { seededRandom } from '@quiverdb/common';
import type { Env, EnvFile } from '../env/env.js';
import { FaultEnv } from '../env/fault-env.js';
import { MemEnv } from '../env/mem-env.js';
import { crc32c } from './crc32c.js';
import { encodeRecord, joinSmall, Wal } from './wal.js';

const payload = (i: number, len = 20): Uint8Array => {
  const b = new Uint8Array(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
};

/** Keep this thread busy for `ms`. */
const spin = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* CPU */ }
};

/**
 * Files of `env` opened from now on take `ms` per fsync: `sync` waits (as the thread pool would),
 * `syncNow` keeps the thread busy. `inSync` counts fsyncs running; `writesDuringSync` the writes
 * that started while one ran.
 */
function slowSyncs(env: Env, ms: number): { inSync: number; maxInSync: number; writesDuringSync: number } {
  const io = { inSync: 0, maxInSync: 0, writesDuringSync: 0 };
  const open = env.open.bind(env);
  env.open = async (path, opts) => {
    const f = await open(path, opts);
    const slow: EnvFile = Object.create(f) as EnvFile;
    // the strict model of an fsync: it makes durable what was written before it started (the
    // snapshot), and returns `ms` later
    slow.sync = async () => {
      io.inSync++;
      io.maxInSync = Math.max(io.maxInSync, io.inSync);
      try {
        await f.sync();
        await new Promise((r) => setTimeout(r, ms));
      } finally {
        io.inSync--;
      }
    };
    slow.syncNow = () => { spin(ms); f.syncNow(); };
    slow.write = async (o, d) => { if (io.inSync > 0) io.writesDuringSync++; await f.write(o, d); };
    slow.writeNow = (o, d) => { if (io.inSync > 0) io.writesDuringSync++; f.writeNow(o, d); };
    return slow;
  };
  return io;
}

/**
 * `sessions` sessions each commit `perSession` single-record transactions (record `record(i)`,
 * i = session * perSession + k), each open from its start, its statement keeping this thread busy
 * `statementMs`; the sessions interleave at their awaits, as the engine's statements do.
 * `beforeStatement` runs as a statement starts. A session stops at its first failed commit.
 * Returns the acknowledged i, in order.
 */
async function commitFromSessions(wal: Wal, sessions: number, perSession: number, statementMs: number,
  record: (i: number) => Uint8Array, beforeStatement: () => void = () => {}): Promise<number[]> {
  let openTxns = 0;
  const acked: number[] = [];
  await Promise.all(Array.from({ length: sessions }, async (_x, c) => {
    for (let k = 0; k < perSession; k++) {
      const i = c * perSession + k;
      openTxns++;
      await undefined;
      beforeStatement();
      spin(statementMs);
      try {
        await wal.sync(wal.appendRecord(record(i)), openTxns);
        acked.push(i);
      } catch {
        return; // the WAL failed: this commit is not acknowledged
      } finally {
        openTxns--;
      }
    }
  }));
  return acked;
}

describe('crc32c', () => {
  it('check value and streaming', () => {
    const b = new TextEncoder().encode('123456789');
    expect(crc32c(b)).toBe(0xe3069283);
    expect(crc32c(b.subarray(4), crc32c(b.subarray(0, 4)))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });

  it('equals a bit-by-bit model at every length and alignment (byte and word paths), streaming too', () => {
    const model = (b: Uint8Array): number => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return ~c >>> 0;
    };
    let seed = 12345;
    const buf = new Uint8Array(3000).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (const len of [0, 1, 7, 8, 9, 255, 256, 257, 263, 1000, 2987]) {
      for (let off = 0; off < 8; off++) {
        const v = buf.subarray(off, off + len);
        expect(crc32c(v)).toBe(model(v));
        const cut = len >> 1;
        expect(crc32c(v.subarray(cut), crc32c(v.subarray(0, cut)))).toBe(model(v));
      }
    }
  });
});

describe('joinSmall', () => {
  it('keeps order and bytes, large buffers alone and uncopied, small runs joined up to the limit (random model check)', () => {
    let seed = 99;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    for (let t = 0; t < 200; t++) {
      const bufs: Uint8Array[] = Array.from({ length: rnd(12) }, (_, i) => new Uint8Array(rnd(4) === 0 ? 200 + rnd(400) : 1 + rnd(60)).fill(i + 1));
      const max = 256;
      const out = joinSmall(bufs, max);
      expect(Buffer.concat(out).equals(Buffer.concat(bufs))).toBe(true);
      for (const o of out) {
        if (o.length >= max / 4 && bufs.includes(o)) continue; // a large one, as it was
        expect(o.length).toBeLessThanOrEqual(max);
      }
      for (const b of bufs) if (b.length >= max / 4) expect(out.includes(b)).toBe(true);
    }
  });
});

describe('Wal', () => {
  it('appends, group-commits, recovers, rotates', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: 200 });
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) { const l = wal.append(1, payload(i)); ps.push(wal.sync(l)); }
    await Promise.all(ps);
    expect(wal.syncs).toBeLessThan(5); // 30 commits shared a couple of fsyncs
    for (let i = 30; i < 60; i++) await wal.sync(wal.append(1, payload(i)));
    expect((await env.list('/w')).length).toBeGreaterThan(3);
    env.crash();
    const r = await Wal.open(env, '/w', 0, { segmentBytes: 200 });
    expect(r.records.length).toBe(60);
    r.records.forEach((rec, i) => expect(rec.payload).toEqual(payload(i)));
    // from a later LSN
    const mid = r.records[40]!.lsn;
    env.crash();
    const r2 = await Wal.open(env, '/w', mid);
    expect(r2.records.length).toBe(20);
  });

  it('unsynced appends are lost at a crash, a torn tail is cut', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0);
    await wal.sync(wal.append(1, payload(1)));
    wal.append(1, payload(2));
    env.crash();
    let r = await Wal.open(env, '/w', 0);
    expect(r.records.length).toBe(1);
    // torn: append half a record durably
    const f = await env.open(`/w/${String(0).padStart(20, '0')}.log`);
    await f.append(new Uint8Array([50, 0, 0, 0, 1, 2, 3]));
    await f.sync();
    env.crash();
    r = await Wal.open(env, '/w', 0);
    expect(r.records.length).toBe(1);
    await r.wal.sync(r.wal.append(1, payload(3)));
    env.crash();
    r = await Wal.open(env, '/w', 0);
    expect(r.records.map((x) => x.payload[0])).toEqual([payload(1)[0], payload(3)[0]]);
  });

  it('a corrupt record followed by valid ones is XX001', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0);
    for (let i = 0; i < 5; i++) await wal.sync(wal.append(1, payload(i)));
    const path = `/w/${String(0).padStart(20, '0')}.log`;
    const f = await env.open(path);
    await f.write(9 + 29 + 12, new Uint8Array([0xff])); // inside record 2's payload
    await f.sync();
    env.crash();
    await expect(Wal.open(env, '/w', 0)).rejects.toMatchObject({ code: 'XX001' });
  });

  it('a corrupt last record is a torn tail', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0);
    for (let i = 0; i < 5; i++) await wal.sync(wal.append(1, payload(i)));
    const path = `/w/${String(0).padStart(20, '0')}.log`;
    const f = await env.open(path);
    await f.write(4 * 29 + 15, new Uint8Array([0xff]));
    await f.sync();
    env.crash();
    const r = await Wal.open(env, '/w', 0);
    expect(r.records.length).toBe(4);
    expect((await env.readFile(path)).length).toBe(4 * 29);
  });

  it('opening from a checkpoint LSN inside a segment reads from there only', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0);
    for (let i = 0; i < 6; i++) await wal.sync(wal.append(1, payload(i)));
    const path = `/w/${String(0).padStart(20, '0')}.log`;
    const from = 3 * 29; // records are 29 bytes: 0..2 belong to the checkpoint
    const f = await env.open(path);
    await f.write(10, new Uint8Array([0xff])); // damage before the checkpoint's LSN is not read
    await f.append(new Uint8Array([50, 0, 0, 0, 1, 2])); // and a torn tail after the last record
    await f.sync();
    env.crash();
    const r = await Wal.open(env, '/w', from);
    expect(r.records.map((x) => x.lsn)).toEqual([3 * 29, 4 * 29, 5 * 29]);
    r.records.forEach((rec, i) => expect(rec.payload).toEqual(payload(i + 3)));
    expect((await env.readFile(path)).length).toBe(6 * 29); // the tail was cut at its own offset
    // appends continue where the log ends, and recover from the same LSN
    await r.wal.sync(r.wal.append(1, payload(6)));
    env.crash();
    const r2 = await Wal.open(env, '/w', from);
    expect(r2.records.map((x) => x.lsn)).toEqual([3 * 29, 4 * 29, 5 * 29, 6 * 29]);
    // a checkpoint LSN past the log's end is corruption, not an empty log
    env.crash();
    await expect(Wal.open(env, '/w', 20 * 29)).rejects.toMatchObject({ code: 'XX001' });
  });

  it('group commit with a slow fsync: commits of a round share one fsync, nothing written during it, nothing acknowledged lost', async () => {
    const env = new MemEnv();
    const io = slowSyncs(env, 3); // every fsync takes 3 ms
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: 400 });
    const acked: number[] = [];
    const clients = Array.from({ length: 8 }, async (_x, c) => {
      for (let k = 0; k < 10; k++) {
        const i = c * 10 + k;
        await wal.sync(wal.appendRecord(encodeRecord(1, payload(i))));
        acked.push(i);
      }
    });
    await Promise.all(clients);
    expect(acked.length).toBe(80);
    expect(wal.durableLsn).toBe(wal.appendedLsn);
    // 8 clients x 10 commits: a round per commit of each client, and a sync per rotation
    expect(wal.syncs).toBeLessThan(40);
    expect(io.writesDuringSync).toBe(0); // one flush loop: write, then fsync
    expect((await env.list('/w')).length).toBeGreaterThan(3); // rotated several times
    env.crash();
    const r = await Wal.open(env, '/w', 0, { segmentBytes: 400 });
    const got = new Set(r.records.map((x) => x.payload[0]));
    for (const i of acked) expect(got.has(payload(i)[0]!)).toBe(true);
    expect(r.records.length).toBe(80);
  });

  it('preallocated segments: start from a zero-filled spare, lose the zero tail at rotation, recover whole', async () => {
    const env = new MemEnv();
    const seg = 400;
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: seg, preallocate: true });
    const acked: number[] = [];
    for (let i = 0; i < 60; i++) {
      await wal.sync(wal.append(1, payload(i)));
      acked.push(i);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2)); // let the spare be written
    }
    const names = (await env.list('/w')).filter((n) => n.endsWith('.log'));
    expect(names.length).toBeGreaterThan(3);
    const sizes = await Promise.all(names.map(async (n) => (await env.readFile(`/w/${n}`)).length));
    // the last segment came from a spare: its physical size is the spare's, more than its records
    const lastStart = Number(names[names.length - 1]!.slice(0, 20));
    expect(sizes[sizes.length - 1]).toBe(seg);
    expect(wal.appendedLsn - lastStart).toBeLessThan(seg);
    // every earlier segment ends exactly where the next one starts (no zero tail)
    for (let k = 0; k + 1 < names.length; k++) expect(Number(names[k]!.slice(0, 20)) + sizes[k]!).toBe(Number(names[k + 1]!.slice(0, 20)));
    env.crash();
    const r = await Wal.open(env, '/w', 0, { segmentBytes: seg, preallocate: true });
    expect(r.records.map((x) => x.payload[0])).toEqual(acked.map((i) => payload(i)[0]));
    expect(await env.exists('/w/spare.tmp')).toBe(false); // a spare of a crashed process is dropped
    // the zero tail was cut as a torn tail; new records follow the recovered ones
    await r.wal.sync(r.wal.append(1, payload(99)));
    await r.wal.close();
    env.crash();
    const r2 = await Wal.open(env, '/w', 0, { segmentBytes: seg });
    expect(r2.records.length).toBe(61);
    await r2.wal.close();
  });

  it('a group every open transaction waits for, or not: one fsync, durable across a crash', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: 1 << 20 });
    let i = 0;
    // 4 committers that each saw 4 open transactions (all of them wait), then 4 that saw 5
    for (const open of [4, 5]) {
      const before = env.syncs;
      await Promise.all(Array.from({ length: 4 }, () => wal.sync(wal.append(1, payload(i++)), open)));
      expect(env.syncs - before).toBe(1);
      expect(wal.durableLsn).toBe(wal.appendedLsn);
    }
    env.crash();
    const r = await Wal.open(env, '/w', 0);
    expect(r.records.map((x) => x.payload[0])).toEqual(Array.from({ length: 8 }, (_, k) => payload(k)[0]));
    await r.wal.close();
  });

  it('pipelined flushes: when statements outlast an fsync, rounds of about half the sessions alternate, two fsyncs in flight at most, overlapping the others; nothing acknowledged is lost', async () => {
    const env = new MemEnv();
    const io = slowSyncs(env, 1); // an fsync takes 1 ms, blocking (syncNow) or through the thread pool (sync)
    let statementsDuringSync = 0;
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: 1 << 20 });
    // 16 sessions; a statement takes 0.5 ms of this thread (half the sessions' statements: 4 ms,
    // against a 1 ms fsync, slack for a loaded machine), its transaction open from its start
    const sessions = 16;
    const perSession = 40;
    const acked = await commitFromSessions(wal, sessions, perSession, 0.5, (i) => encodeRecord(1, payload(i)), () => {
      if (io.inSync > 0) statementsDuringSync++;
    });
    const commits = sessions * perSession;
    expect(acked.length).toBe(commits);
    expect(wal.durableLsn).toBe(wal.appendedLsn);
    // a round's fsync started beside the other half's, records written while one was in flight
    // (durable by the next: the crash below keeps only what each fsync found written at its start)
    expect(io.maxInSync).toBe(2);
    expect(io.writesDuringSync).toBeGreaterThan(0);
    // most statements ran while an fsync was in flight (all but the first rounds'; half of them
    // when each round only starts the next), in rounds of about half the sessions
    expect(statementsDuringSync).toBeGreaterThan(commits * 0.75);
    expect(wal.syncs).toBeGreaterThan(commits / sessions * 1.5);
    expect(wal.syncs).toBeLessThan(commits / 4);
    env.crash();
    const r = await Wal.open(env, '/w', 0);
    expect(new Set(r.records.map((x) => x.payload[0]))).toEqual(new Set(acked.map((i) => payload(i)[0])));
    expect(r.records.length).toBe(commits);
    await r.wal.close();
  });

  it('pipelined flushes with a fault at every I/O call, then a power loss: every acknowledged commit recovered, nothing never committed', async () => {
    const idOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset).getUint32(0, true);
    const record = (i: number): Uint8Array => {
      const p = new Uint8Array(12);
      new DataView(p.buffer).setUint32(0, i, true);
      return encodeRecord(1, p);
    };
    // 16 sessions of single-record commits whose statements outlast the fsync (pipelined rounds:
    // 8 statements take 2.4 ms, an fsync 1 ms)
    const run = async (env: FaultEnv, acked: Set<number>): Promise<Wal | undefined> => {
      slowSyncs(env, 1);
      let wal: Wal;
      try {
        ({ wal } = await Wal.open(env, '/w', 0, { segmentBytes: 1 << 16 }));
      } catch {
        return undefined; // the fault hit the open: nothing was committed
      }
      for (const i of await commitFromSessions(wal, 16, 10, 0.3, record)) acked.add(i);
      return wal;
    };
    const probe = new FaultEnv(new MemEnv());
    const probeWal = await run(probe, new Set());
    expect(probeWal!.syncs).toBeGreaterThan(10 * 1.5); // pipelined: rounds of about half the sessions
    const total = probe.ops;
    let fired = 0;
    for (let n = 1; n <= total; n++) {
      const env = new FaultEnv(new MemEnv());
      env.setPlan({ faultAt: n, mode: n % 2 === 1 ? 'cut' : 'fail', cutFraction: 0.5 });
      const acked = new Set<number>();
      await run(env, acked);
      if (env.fired) fired++;
      env.crash();
      const r = await Wal.open(env, '/w', 0);
      const got = r.records.map((x) => idOf(x.payload));
      expect(new Set(got).size, `fault at call ${n}: a record twice`).toBe(got.length);
      for (const i of acked) expect(got.includes(i), `fault at call ${n}: acknowledged commit ${i} lost`).toBe(true);
      for (const i of got) expect(i < 16 * 10, `fault at call ${n}: unknown record ${i}`).toBe(true);
      await r.wal.close();
    }
    expect(fired).toBeGreaterThan(total / 2);
  });

  it('a sole committer writes and syncs at once; with a flush pending it joins the group', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: 300 });
    for (let i = 0; i < 10; i++) {
      const p = wal.sync(wal.append(1, payload(i)), 1);
      expect(wal.durableLsn).toBe(wal.appendedLsn); // durable before sync returned
      await p;
    }
    expect(wal.syncs).toBeGreaterThanOrEqual(10);
    // a group commit is scheduled: a sole committer's sync must not overtake it (nor skip its records)
    const a = wal.sync(wal.append(1, payload(10)));
    const b = wal.sync(wal.append(1, payload(11)), 1);
    expect(wal.durableLsn).toBeLessThan(wal.appendedLsn);
    await Promise.all([a, b]);
    expect(wal.durableLsn).toBe(wal.appendedLsn);
    env.crash();
    const r = await Wal.open(env, '/w', 0);
    expect(r.records.map((x) => x.payload[0])).toEqual(Array.from({ length: 12 }, (_x, i) => payload(i)[0]));
    await r.wal.close();
  });

  it('copied (staged) and whole records keep their order through every write path (random model check)', async () => {
    const env = new MemEnv();
    const { wal } = await Wal.open(env, '/w', 0, { segmentBytes: 64 << 10 });
    const rng = seededRandom(20261126);
    const expected: Uint8Array[] = [];
    const scratch = new Uint8Array(40 << 10);
    for (let round = 0; round < 60; round++) {
      const ps: Promise<void>[] = [];
      const n = 1 + Math.floor(rng() * 12);
      for (let k = 0; k < n; k++) {
        const i = expected.length;
        // sizes: small (staged), past a quarter of the stage (copied whole), and large (written
        // through the thread pool in write units)
        const r = rng();
        const len = r < 0.8 ? 1 + Math.floor(rng() * 300) : r < 0.95 ? 17_000 + Math.floor(rng() * 20_000) : 300_000;
        const p = payload(i, len);
        expected.push(p);
        const rec = encodeRecord(1, p);
        let lsn: number;
        if (rng() < 0.5) lsn = wal.appendRecord(rec);
        else {
          // through a reused buffer, overwritten right after the append
          const view = rec.length <= scratch.length ? scratch.subarray(0, rec.length) : new Uint8Array(rec.length);
          view.set(rec);
          lsn = wal.appendRecordCopy(view);
          view.fill(0xee);
        }
        if (rng() < 0.5) ps.push(wal.sync(lsn, rng() < 0.3 ? 1 : 0));
      }
      await Promise.all(ps);
    }
    await wal.sync();
    env.crash();
    const r = await Wal.open(env, '/w', 0, { segmentBytes: 64 << 10 });
    expect(r.records.length).toBe(expected.length);
    const differ = r.records.findIndex((rec, i) => Buffer.compare(rec.payload, expected[i]!) !== 0);
    expect(differ).toBe(-1);
    await r.wal.close();
  });
});
