/**
 * JitterEnv: an Env wrapper for the in-process kill test that runs every asynchronous call a few
 * turns of the event loop late, as NodeEnv's thread pool does: calls issued together complete in
 * any order, a checkpoint's file writes overlap the commits made meanwhile, and a kill finds some
 * calls issued but not done (they never happen: the delay comes first, then the wrapped Env, so
 * a FaultEnv underneath counts and fails the call when it is finally made). Synchronous calls
 * (writeNow, syncNow) stay synchronous, as on NodeEnv.
 *
 * Invariants:
 *  1. Each call is passed to the wrapped Env unchanged, once, after its delay; only the order in
 *     which concurrent calls take effect differs from the wrapped Env's.
 *  2. The delays are drawn from the seeded `rand`; which call gets which still depends on how the
 *     tasks interleave.
 */
import type { Env, EnvFile } from '@quiverdb/storage';

/** 0-3 turns of the event loop (setImmediate), now and then a 1 ms timer: a thread-pool call's latency. */
async function delay(rand: () => number): Promise<void> {
  const r = rand();
  if (r < 0.3) return;
  if (r < 0.4) {
    await new Promise((res) => setTimeout(res, 1));
    return;
  }
  for (let i = Math.floor(r * 10) % 4; i >= 0; i--) await new Promise((res) => setImmediate(res));
}

class JitterFile implements EnvFile {
  constructor(private readonly rand: () => number, private readonly inner: EnvFile) {}
  get path(): string { return this.inner.path; }
  async size(): Promise<number> { await delay(this.rand); return this.inner.size(); }
  async read(offset: number, length: number): Promise<Uint8Array> { await delay(this.rand); return this.inner.read(offset, length); }
  async append(data: Uint8Array): Promise<void> { await delay(this.rand); return this.inner.append(data); }
  async write(offset: number, data: Uint8Array): Promise<void> { await delay(this.rand); return this.inner.write(offset, data); }
  writeNow(offset: number, data: Uint8Array): void { this.inner.writeNow(offset, data); }
  async truncate(length: number): Promise<void> { await delay(this.rand); return this.inner.truncate(length); }
  async sync(): Promise<void> { await delay(this.rand); return this.inner.sync(); }
  syncNow(): void { this.inner.syncNow(); }
  async close(): Promise<void> { await delay(this.rand); return this.inner.close(); }
}

export class JitterEnv implements Env {
  constructor(private readonly rand: () => number, readonly inner: Env) {}
  async open(path: string, opts?: { create?: boolean; truncate?: boolean }): Promise<EnvFile> {
    await delay(this.rand);
    return new JitterFile(this.rand, await this.inner.open(path, opts));
  }
  async readFile(path: string): Promise<Uint8Array> { await delay(this.rand); return this.inner.readFile(path); }
  async writeFile(path: string, data: Uint8Array): Promise<void> { await delay(this.rand); return this.inner.writeFile(path, data); }
  async writeFileDurable(path: string, data: Uint8Array): Promise<void> { await delay(this.rand); return this.inner.writeFileDurable(path, data); }
  async openBlob(path: string): Promise<Blob> { await delay(this.rand); return this.inner.openBlob(path); }
  async exists(path: string): Promise<boolean> { await delay(this.rand); return this.inner.exists(path); }
  async rename(from: string, to: string): Promise<void> { await delay(this.rand); return this.inner.rename(from, to); }
  async remove(path: string): Promise<void> { await delay(this.rand); return this.inner.remove(path); }
  async list(dir: string): Promise<string[]> { await delay(this.rand); return this.inner.list(dir); }
  async mkdir(dir: string): Promise<void> { await delay(this.rand); return this.inner.mkdir(dir); }
  async syncDir(dir: string): Promise<void> { await delay(this.rand); return this.inner.syncDir(dir); }
  processAlive(pid: number): boolean { return this.inner.processAlive(pid); }
  lockScope(): string { return this.inner.lockScope?.() ?? ''; }
}
