/**
 * MemEnv: an in-memory file system that models what survives a power loss.
 *
 * Each file keeps its current bytes and its durable bytes (as of its last `sync`); the namespace
 * keeps the current entries and, per directory, the durable entries (as of its last `syncDir`).
 * `crash()` throws away everything that was not made durable, and invalidates open handles.
 *
 * Invariants:
 *  1. `durable` maps a path to the file object it named at the parent's last syncDir.
 *  2. A file's `synced` bytes are a prefix-or-copy of what was written before its last sync.
 */
import { IoError } from '@quiverdb/common';
import { dirname, type Env, type EnvFile } from './env.js';

class GrowBuf {
  bytes = new Uint8Array(0);
  len = 0;
  ensure(n: number): void {
    if (n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(n, this.bytes.length * 2, 64));
    next.set(this.bytes.subarray(0, this.len));
    this.bytes = next;
  }
  writeAt(off: number, data: Uint8Array): void {
    this.ensure(off + data.length);
    if (off > this.len) this.bytes.fill(0, this.len, off);
    this.bytes.set(data, off);
    this.len = Math.max(this.len, off + data.length);
  }
  truncate(n: number): void {
    if (n > this.len) { this.ensure(n); this.bytes.fill(0, this.len, n); }
    this.len = n;
  }
  view(): Uint8Array { return this.bytes.subarray(0, this.len); }
}

export class MemFileData {
  readonly cur = new GrowBuf();
  readonly synced = new GrowBuf();
  /** lowest offset changed since the last sync (Infinity: none) */
  dirtyFrom = Infinity;
  write(off: number, data: Uint8Array): void {
    this.cur.writeAt(off, data);
    this.dirtyFrom = Math.min(this.dirtyFrom, off);
  }
  truncate(n: number): void {
    this.cur.truncate(n);
    this.dirtyFrom = Math.min(this.dirtyFrom, n);
  }
  sync(): void {
    if (this.dirtyFrom === Infinity) return;
    const from = Math.min(this.dirtyFrom, this.synced.len, this.cur.len);
    this.synced.truncate(from);
    this.synced.writeAt(from, this.cur.bytes.subarray(from, this.cur.len));
    this.dirtyFrom = Infinity;
  }
  revertToSynced(): void {
    this.cur.truncate(0);
    this.cur.writeAt(0, this.synced.view());
    this.dirtyFrom = Infinity;
  }
}

class MemHandle implements EnvFile {
  constructor(readonly path: string, private readonly env: MemEnv, private readonly f: MemFileData, private readonly gen: number) {}
  private check(): void {
    if (this.gen !== this.env.generation) throw new IoError(`${this.path}: handle invalidated by crash`);
  }
  async size(): Promise<number> { this.check(); return this.f.cur.len; }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check();
    const end = Math.min(this.f.cur.len, offset + length);
    return this.f.cur.bytes.slice(offset, Math.max(offset, end));
  }
  async append(data: Uint8Array): Promise<void> { this.check(); this.f.write(this.f.cur.len, data); }
  async write(offset: number, data: Uint8Array): Promise<void> { this.check(); this.f.write(offset, data); }
  writeNow(offset: number, data: Uint8Array): void { this.check(); this.f.write(offset, data); }
  async truncate(length: number): Promise<void> { this.check(); this.f.truncate(length); }
  async sync(): Promise<void> { this.syncNow(); }
  syncNow(): void { this.check(); this.env.syncs++; this.f.sync(); }
  async close(): Promise<void> { /* nothing */ }
}

export class MemEnv implements Env {
  private files = new Map<string, MemFileData>();
  private durable = new Map<string, MemFileData>();
  private dirs = new Set<string>(['/', '.']);
  generation = 0;
  syncs = 0;

  private notFound(path: string): IoError {
    return new IoError(`${path}: no such file`);
  }
  private requireDir(path: string): void {
    const d = dirname(path);
    if (!this.dirs.has(d)) throw new IoError(`${path}: no such directory ${d}`);
  }

  async open(path: string, opts: { create?: boolean; truncate?: boolean } = {}): Promise<EnvFile> {
    let f = this.files.get(path);
    if (f === undefined) {
      if (!opts.create) throw this.notFound(path);
      this.requireDir(path);
      f = new MemFileData();
      this.files.set(path, f);
    }
    if (opts.truncate) f.truncate(0);
    return new MemHandle(path, this, f, this.generation);
  }
  async readFile(path: string): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (f === undefined) throw this.notFound(path);
    return f.cur.view().slice();
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    this.requireDir(path);
    const f = new MemFileData();
    f.write(0, data);
    this.files.set(path, f);
  }
  async writeFileDurable(path: string, data: Uint8Array): Promise<void> {
    await this.writeFile(path, data);
    this.files.get(path)!.sync();
    await this.syncDir(dirname(path));
  }
  async openBlob(path: string): Promise<Blob> {
    const f = this.files.get(path);
    if (f === undefined) throw this.notFound(path);
    return new Blob([f.cur.view().slice()]);
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.dirs.has(path);
  }
  async rename(from: string, to: string): Promise<void> {
    const f = this.files.get(from);
    if (f === undefined) throw this.notFound(from);
    this.requireDir(to);
    this.files.delete(from);
    this.files.set(to, f);
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
    if (this.dirs.has(path)) {
      for (const p of [...this.files.keys()]) if (p.startsWith(path + '/')) this.files.delete(p);
      for (const d of [...this.dirs]) if (d === path || d.startsWith(path + '/')) this.dirs.delete(d);
    }
  }
  async list(dir: string): Promise<string[]> {
    const out = new Set<string>();
    const prefix = dir.endsWith('/') ? dir : dir + '/';
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p.startsWith(prefix) && p.length > prefix.length) out.add(p.slice(prefix.length).split('/')[0]!);
    }
    return [...out].sort();
  }
  async mkdir(dir: string): Promise<void> {
    let d = dir;
    while (d !== '/' && d !== '.' && d !== '') {
      this.dirs.add(d);
      d = dirname(d);
    }
  }
  async syncDir(dir: string): Promise<void> {
    this.syncs++;
    for (const p of [...this.durable.keys()]) if (dirname(p) === dir) this.durable.delete(p);
    for (const [p, f] of this.files) if (dirname(p) === dir) this.durable.set(p, f);
  }
  processAlive(pid: number): boolean {
    return pid === process.pid;
  }
  lockScope(): string {
    return `mem-boot-${this.generation}`;
  }

  /**
   * A copy of every file as it stands now, synced or not: what a killed process leaves behind (the
   * OS keeps every completed write). The copy's files count as synced. `generation` sets its lock
   * scope: a database open here and one open on the copy are two processes' databases.
   */
  snapshot(generation = this.generation + 1): MemEnv {
    const s = new MemEnv();
    s.generation = generation;
    for (const d of this.dirs) s.dirs.add(d);
    for (const [p, f] of this.files) {
      const c = new MemFileData();
      c.write(0, f.cur.view());
      c.sync();
      s.files.set(p, c);
      s.durable.set(p, c);
    }
    return s;
  }

  /** Simulated power loss: keep only synced content under durable names; open handles die. */
  crash(): void {
    this.generation++;
    this.files = new Map();
    for (const [p, f] of this.durable) {
      if (!this.dirs.has(dirname(p))) continue;
      f.revertToSynced();
      this.files.set(p, f);
    }
  }
  /** Total bytes of all files (tests). */
  totalBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.cur.len;
    return n;
  }
}
