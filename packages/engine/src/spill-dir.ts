/**
 * `SpillDir`: the engine's implementation of the SQL stack's `SpillSpace` (query
 * exec/spill-space.ts) — temporary files of one statement's operators that ran over
 * `memory_limit` (external sort runs). Files live in `<database dir>/tmp/`, or in
 * `os.tmpdir()/quiverdb-spill/` for ':memory:' databases (and for databases whose directory is
 * not on the real file system, e.g. opened on a MemEnv in tests), and go through a `NodeEnv`.
 *
 * Lifecycle: the connection makes one `SpillDir` per statement and calls `close()` when the
 * statement settles — success, error or cancel — which removes every file still there. Nothing
 * is created until an operator actually spills. Files left by a crashed process (the pid in the
 * name is not alive) are removed the first time this process spills into that directory.
 *
 * Invariants:
 *  1. After `close()` resolves, no file this object created exists.
 *  2. File names are `spill-<pid>-<seq>.tmp`; `seq` is unique within the process.
 *
 * Concurrency: one statement uses one SpillDir; statements of other sessions use their own, with
 * distinct file names.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { NodeEnv, type EnvFile } from '@quiverdb/storage';
import type { SpillFile, SpillSpace } from '@quiverdb/query';

const env = new NodeEnv();
let seq = 0;
/** directories already swept for stale files by this process */
const swept = new Set<string>();

class SpillDirFile implements SpillFile {
  size = 0;
  constructor(readonly file: EnvFile) {}
  async append(data: Uint8Array): Promise<void> { await this.file.append(data); this.size += data.length; }
  read(offset: number, length: number): Promise<Uint8Array> { return this.file.read(offset, length); }
}

/** Where a database spills: its directory's tmp/, or the OS temp directory. */
export function spillDirOf(dbPath: string): string {
  if (dbPath !== ':memory:' && dbPath !== '' && fs.existsSync(dbPath)) return `${dbPath}/tmp`;
  return `${os.tmpdir()}/quiverdb-spill`;
}

export class SpillDir implements SpillSpace {
  readonly #dbPath: string;
  #dir: string | undefined;
  /** made by the first `create` (most statements never spill) */
  #files: Set<SpillDirFile> | undefined;

  constructor(dbPath: string) { this.#dbPath = dbPath; }

  /** Files currently open (tests). */
  get openFiles(): number { return this.#files?.size ?? 0; }

  async create(): Promise<SpillFile> {
    const dir = this.#dir ??= spillDirOf(this.#dbPath);
    await env.mkdir(dir);
    if (!swept.has(dir)) { swept.add(dir); await sweepStale(dir); }
    const f = new SpillDirFile(await env.open(`${dir}/spill-${process.pid}-${seq++}.tmp`, { create: true, truncate: true }));
    (this.#files ??= new Set()).add(f);
    return f;
  }

  async remove(file: SpillFile): Promise<void> {
    const f = file as SpillDirFile;
    if (this.#files?.delete(f) !== true) return;
    await f.file.close();
    await env.remove(f.file.path);
  }

  /** Remove every file still there (statement end). */
  async close(): Promise<void> {
    if (this.#files === undefined || this.#files.size === 0) return;
    for (const f of [...this.#files]) {
      try { await this.remove(f); } catch { /* best effort: the sweep of a later run removes it */ }
    }
  }
}

async function sweepStale(dir: string): Promise<void> {
  for (const name of await env.list(dir)) {
    const m = /^spill-(\d+)-\d+\.tmp$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !env.processAlive(Number(m[1]))) await env.remove(`${dir}/${name}`).catch(() => undefined);
  }
}
