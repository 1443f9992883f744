/**
 * FaultEnv: wraps an Env and injects faults at the Nth mutating I/O call, for crash tests.
 *
 * Counted calls: open with create, writeFile, rename, remove, mkdir, syncDir, and on files
 * append / write / writeNow (counted as a write) / truncate / sync / syncNow (as a sync)
 * (writeFileDurable counts as its open, write, sync and syncDir).
 * At call number `faultAt` (1-based):
 *   mode 'fail': the call throws IoError (58030) without effect;
 *   mode 'cut':  a write/append puts only a prefix of its bytes (`cutFraction`) then throws; other
 *                calls throw without effect.
 * With `dieOnFault` (default true) every later call throws too: the process is "dead" until
 * `crash()`, which drops everything not fsync'ed (needs a MemEnv underneath) and revives it.
 *
 * Invariants:
 *  1. Before the fault fires, FaultEnv behaves exactly as the wrapped Env.
 *  2. `ops` counts every counted call, so a test can first count the calls of a workload and
 *     then replay it with `faultAt` = 1..ops.
 */
import { IoError } from '@quiverdb/common';
import { dirname, type Env, type EnvFile } from './env.js';
import type { MemEnv } from './mem-env.js';

export interface FaultPlan {
  faultAt: number;
  mode: 'fail' | 'cut';
  cutFraction?: number;
  dieOnFault?: boolean;
}

class FaultFile implements EnvFile {
  constructor(private readonly env: FaultEnv, private readonly inner: EnvFile) {}
  get path(): string { return this.inner.path; }
  async size(): Promise<number> { this.env.checkAlive(); return this.inner.size(); }
  async read(offset: number, length: number): Promise<Uint8Array> { this.env.checkAlive(); return this.inner.read(offset, length); }
  async append(data: Uint8Array): Promise<void> {
    const cut = this.env.step('append', this.path, data);
    if (cut !== undefined) { await this.inner.append(cut); this.env.fire('append', this.path); }
    await this.inner.append(data);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    const cut = this.env.step('write', this.path, data);
    if (cut !== undefined) { await this.inner.write(offset, cut); this.env.fire('write', this.path); }
    await this.inner.write(offset, data);
  }
  writeNow(offset: number, data: Uint8Array): void {
    const cut = this.env.step('write', this.path, data);
    if (cut !== undefined) { this.inner.writeNow(offset, cut); this.env.fire('write', this.path); }
    this.inner.writeNow(offset, data);
  }
  async truncate(length: number): Promise<void> { this.env.step('truncate', this.path); await this.inner.truncate(length); }
  async sync(): Promise<void> { this.env.step('sync', this.path); await this.inner.sync(); }
  syncNow(): void { this.env.step('sync', this.path); this.inner.syncNow(); }
  close(): Promise<void> { return this.inner.close(); }
}

export class FaultEnv implements Env {
  ops = 0;
  fired = false;
  dead = false;
  plan: FaultPlan | undefined;
  /** log of counted calls (op + path), for test diagnostics */
  readonly log: string[] = [];
  keepLog = false;

  constructor(readonly inner: Env) {}

  /** the faulting call (`<call number> <op> <path>`), once the fault fired */
  lastFault: string | undefined;

  /**
   * A process kill at the `n`-th counted call from now (0: the next one): that call fails without
   * effect, or with `cutFraction` a write it lands on puts that prefix of its bytes first (a kill
   * inside write(2)); every later call fails too (the count goes on; see MemEnv.snapshot for what
   * is left).
   */
  killAfter(n: number, cutFraction?: number): void {
    this.plan = cutFraction === undefined
      ? { faultAt: this.ops + 1 + n, mode: 'fail', dieOnFault: true }
      : { faultAt: this.ops + 1 + n, mode: 'cut', cutFraction, dieOnFault: true };
    this.fired = false;
    this.dead = false;
  }

  setPlan(plan: FaultPlan | undefined): void {
    this.plan = plan;
    this.ops = 0;
    this.fired = false;
    this.dead = false;
  }

  checkAlive(): void {
    if (this.dead) throw new IoError('FaultEnv: process is dead (injected fault)');
  }

  /** Count a call; throws on the fault (or returns the prefix to write for a 'cut' write). */
  step(op: string, path: string, data?: Uint8Array): Uint8Array | undefined {
    this.checkAlive();
    this.ops++;
    if (this.keepLog) this.log.push(`${this.ops} ${op} ${path}`);
    const p = this.plan;
    if (p === undefined || this.fired || this.ops !== p.faultAt) return undefined;
    if (p.mode === 'cut' && data !== undefined && data.length > 0) {
      const n = Math.floor(data.length * (p.cutFraction ?? 0.5));
      return data.subarray(0, n);
    }
    this.fire(op, path);
    return undefined;
  }

  fire(op: string, path: string): never {
    this.fired = true;
    this.lastFault = `${this.ops} ${op} ${path}`;
    if (this.plan?.dieOnFault ?? true) this.dead = true;
    throw new IoError(`FaultEnv: injected fault at call ${this.ops} (${op} ${path})`);
  }

  /** Power loss: drop unsynced data in the wrapped MemEnv; the "process" lives again. */
  crash(): void {
    (this.inner as MemEnv).crash();
    this.dead = false;
    this.fired = true;
  }

  async open(path: string, opts: { create?: boolean; truncate?: boolean } = {}): Promise<EnvFile> {
    if (opts.create || opts.truncate) this.step('open', path); else this.checkAlive();
    return new FaultFile(this, await this.inner.open(path, opts));
  }
  async readFile(path: string): Promise<Uint8Array> { this.checkAlive(); return this.inner.readFile(path); }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const cut = this.step('writeFile', path, data);
    if (cut !== undefined) { await this.inner.writeFile(path, cut); this.fire('writeFile', path); }
    await this.inner.writeFile(path, data);
  }
  async writeFileDurable(path: string, data: Uint8Array): Promise<void> {
    const f = await this.open(path, { create: true, truncate: true });
    await f.write(0, data);
    await f.sync();
    await f.close();
    await this.syncDir(dirname(path));
  }
  async openBlob(path: string): Promise<Blob> { this.checkAlive(); return this.inner.openBlob(path); }
  async exists(path: string): Promise<boolean> { this.checkAlive(); return this.inner.exists(path); }
  async rename(from: string, to: string): Promise<void> { this.step('rename', from); await this.inner.rename(from, to); }
  async remove(path: string): Promise<void> { this.step('remove', path); await this.inner.remove(path); }
  async list(dir: string): Promise<string[]> { this.checkAlive(); return this.inner.list(dir); }
  async mkdir(dir: string): Promise<void> { this.step('mkdir', dir); await this.inner.mkdir(dir); }
  async syncDir(dir: string): Promise<void> { this.step('syncDir', dir); await this.inner.syncDir(dir); }
  processAlive(pid: number): boolean { return this.inner.processAlive(pid); }
  lockScope(): string { return this.inner.lockScope?.() ?? ''; }
}
