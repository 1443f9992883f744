/**
 * NodeEnv: the real file system (node:fs/promises), with real fdatasync of files and fsync of
 * directories.
 *
 * Concurrency: each EnvFile wraps one OS file handle; callers serialize writes to one file
 * (the WAL writer has a single flusher).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { IoError } from '@quiverdb/common';
import { dirname, type Env, type EnvFile } from './env.js';
import { SpinSync } from './spin-sync.js';

function ioError(op: string, path: string, err: unknown): IoError {
  const msg = err instanceof Error ? err.message : String(err);
  return new IoError(`${op} ${path}: ${msg}`, { cause: err });
}

class NodeFile implements EnvFile {
  private end: number;
  constructor(readonly path: string, private readonly fh: fsp.FileHandle, size: number) {
    this.end = size;
  }
  async size(): Promise<number> { return this.end; }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buf : buf.subarray(0, done);
  }
  async append(data: Uint8Array): Promise<void> {
    const at = this.end;
    this.end += data.length;
    try { await this.writeAll(at, data); } catch (e) { throw ioError('append', this.path, e); }
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    this.end = Math.max(this.end, offset + data.length);
    try { await this.writeAll(offset, data); } catch (e) { throw ioError('write', this.path, e); }
  }
  writeNow(offset: number, data: Uint8Array): void {
    this.end = Math.max(this.end, offset + data.length);
    try {
      let done = 0;
      while (done < data.length) done += fs.writeSync(this.fh.fd, data, done, data.length - done, offset + done);
    } catch (e) { throw ioError('write', this.path, e); }
  }
  private async writeAll(offset: number, data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }
  async truncate(length: number): Promise<void> {
    try { await this.fh.truncate(length); } catch (e) { throw ioError('truncate', this.path, e); }
    this.end = length;
  }
  async sync(): Promise<void> {
    // fdatasync: flushes the data and the metadata needed to read it back (the size), not times.
    // The callback API: less work on the calling thread than the FileHandle promise.
    try {
      await new Promise<void>((resolve, reject) => fs.fdatasync(this.fh.fd, (e) => (e ? reject(e) : resolve())));
    } catch (e) { throw ioError('fdatasync', this.path, e); }
  }
  syncNow(): void {
    // through the helper thread where there is one, so this thread stays running (spin-sync.ts)
    const spin = SpinSync.get();
    try {
      if (spin) spin.fdatasync(this.fh.fd);
      else fs.fdatasyncSync(this.fh.fd);
    } catch (e) { throw ioError('fdatasync', this.path, e); }
  }
  async close(): Promise<void> { await this.fh.close(); }
}

export class NodeEnv implements Env {
  async open(path: string, opts: { create?: boolean; truncate?: boolean } = {}): Promise<EnvFile> {
    try {
      if (opts.create) {
        // 'a+' would force appends to the end on Linux even for positional writes: open/create then r+
        const h = await fsp.open(path, 'a');
        await h.close();
      }
      const fh = await fsp.open(path, 'r+');
      if (opts.truncate) await fh.truncate(0);
      const st = await fh.stat();
      return new NodeFile(path, fh, st.size);
    } catch (e) {
      throw ioError('open', path, e);
    }
  }
  async readFile(path: string): Promise<Uint8Array> {
    try { return new Uint8Array(await fsp.readFile(path)); } catch (e) { throw ioError('read', path, e); }
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    try { await fsp.writeFile(path, data); } catch (e) { throw ioError('write', path, e); }
  }
  async writeFileDurable(path: string, data: Uint8Array): Promise<void> {
    const f = await this.open(path, { create: true, truncate: true });
    try {
      await f.write(0, data);
      await f.sync();
    } finally {
      await f.close();
    }
    await this.syncDir(dirname(path));
  }
  async openBlob(path: string): Promise<Blob> {
    try { return await fs.openAsBlob(path); } catch (e) { throw ioError('open', path, e); }
  }
  async exists(path: string): Promise<boolean> {
    try { await fsp.access(path); return true; } catch { return false; }
  }
  async rename(from: string, to: string): Promise<void> {
    try { await fsp.rename(from, to); } catch (e) { throw ioError('rename', from, e); }
  }
  async remove(path: string): Promise<void> {
    try { await fsp.rm(path, { force: true, recursive: true }); } catch (e) { throw ioError('remove', path, e); }
  }
  async list(dir: string): Promise<string[]> {
    try { return (await fsp.readdir(dir)).sort(); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError('list', dir, e);
    }
  }
  async mkdir(dir: string): Promise<void> {
    try { await fsp.mkdir(dir, { recursive: true }); } catch (e) { throw ioError('mkdir', dir, e); }
  }
  async syncDir(dir: string): Promise<void> {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(dir, 'r');
      await fh.sync();
    } catch (e) {
      throw ioError('fsync dir', dir, e);
    } finally {
      await fh?.close();
    }
  }
  processAlive(pid: number): boolean {
    try { process.kill(pid, 0); return true; } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}
