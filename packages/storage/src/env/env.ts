/**
 * Env: every file access of the storage layer goes through this interface, so tests run on
 * `MemEnv` (fast, deterministic) and crash tests on `FaultEnv` (fail / cut a write at the Nth I/O
 * call, drop everything not fsync'ed at a simulated power loss).
 *
 * Paths are '/'-separated strings; implementations join them to their root as they see fit.
 *
 * Durability model (what `crash()` of MemEnv keeps, and what NodeEnv relies on from the OS):
 *  - file CONTENT is durable up to the last `sync()` of that file;
 *  - a directory ENTRY (create, rename, remove) is durable after `syncDir()` of its parent;
 *  - `mkdir` is durable at once (a simplification: directories are created once, at open).
 *
 * Invariants:
 *  1. `append` writes at the end of the file; `write` / `writeNow` write at an offset; none is
 *     durable before `sync`.
 *  2. `rename` replaces the target atomically (readers see the old or the new file, never a mix).
 */

export interface EnvFile {
  readonly path: string;
  /** current size in bytes (including writes not yet synced) */
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Uint8Array>;
  append(data: Uint8Array): Promise<void>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * `write`, done before returning (on NodeEnv a blocking pwrite into the OS page cache: for
   * small writes on a latency path, where a thread-pool round trip costs more than the copy).
   */
  writeNow(offset: number, data: Uint8Array): void;
  truncate(length: number): Promise<void>;
  /** fdatasync: content (and size) written so far survives a crash */
  sync(): Promise<void>;
  /** `sync`, done before returning (on NodeEnv a blocking fdatasync; see spin-sync.ts). */
  syncNow(): void;
  close(): Promise<void>;
}

export interface Env {
  /** Open (creating when `create`) a file for reading and writing. */
  open(path: string, opts?: { create?: boolean; truncate?: boolean }): Promise<EnvFile>;
  readFile(path: string): Promise<Uint8Array>;
  /** Create/replace `path` with `data` (not synced: call `syncFile` / `syncDir`). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Write, fsync the file, and fsync its directory. */
  writeFileDurable(path: string, data: Uint8Array): Promise<void>;
  /** A Blob over the file (lazy on NodeEnv), for readers that pull byte ranges (ParquetFile). */
  openBlob(path: string): Promise<Blob>;
  exists(path: string): Promise<boolean>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Names (not paths) of entries directly in `dir`; [] when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Create a directory and its parents (no error when it exists). */
  mkdir(dir: string): Promise<void>;
  /** fsync a directory: creates / renames / removes of its entries survive a crash. */
  syncDir(dir: string): Promise<void>;
  /** Is a process with this id alive? (MemEnv: the current process only) */
  processAlive(pid: number): boolean;
  /**
   * Identity of the "machine boot" for in-process lock bookkeeping: MemEnv changes it at each
   * simulated crash, so a store abandoned by a crash does not hold its directory forever.
   */
  lockScope?(): string;
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return path.slice(0, i);
}

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/+/g, '/');
}
