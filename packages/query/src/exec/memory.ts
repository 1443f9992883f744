/**
 * Memory accounting of the executor: every operator that holds state proportional to its input
 * (hash join build side and pair lists, aggregation group state, sort input, window partitions,
 * set-operation / DISTINCT hash sets, CTE work tables) reserves an estimate of that state from
 * the statement's `MemoryTracker` before (or right after) materializing it. A reservation that
 * would take the statement past `memory_limit` fails with 53200 (out of memory) naming the
 * operator, unless the operator can spill (ORDER BY: exec/spill-sort.ts) — never a crash of the
 * process with a JavaScript heap overflow.
 *
 * What is counted: the working state of the operators running now. The Rel an operator returns
 * is its consumer's input; the consumer counts it if it keeps state over it (a sort counts its
 * whole input, a filter counts nothing). So the figure checked against the limit approximates
 * the statement's peak working memory, not the whole JS heap.
 *
 * Byte estimates: typed-array columns are exact (`byteLength`); JS array columns cost one 8-byte
 * slot per row plus, for heap values, an estimate from a sample of at most 64 rows (strings
 * 24 bytes + length (x2 when not Latin-1), bigint 24, Decimal 48, Interval 56, non-integral
 * numbers 16 for their HeapNumber box).
 *
 * Hooks: an operator that runs as a unit is wrapped in `operatorScope` (join, aggregate, CTE) and
 * `charge`s its state as it materializes it; the scope releases it when the operator settles.
 * State that dies inside one step (DISTINCT / set-operation hash sets) is only checked
 * (`checkGroups`). Sorts and windows hold their own `reserve`d reservation.
 *
 * The limit: the session setting `memory_limit` (bytes, or a size with a unit: '64kB', '16MB',
 * '1GB', '512MiB' — 1024-based as in PostgreSQL; the engine's default is 80% of the memory the
 * process may use, as DuckDB's), the setting whose default
 * also sizes the storage buffer pool (at Database.open); '0' or '-1' turns the check off. It is
 * a per-statement budget: one tracker per statement (per ExecCtx), read when the first operator
 * reserves; the statement ending drops it, and with it every reservation, on success, error and
 * cancel alike.
 *
 * Invariants:
 *  1. `tracker.used` = sum of the live reservations' `bytes`; `used <= limit` after every
 *     successful `grow` (a failed `grow` changes nothing).
 *  2. `shrink` never takes a reservation below 0; `release` returns it to 0 and is idempotent.
 *  3. `peak` is the highest `used` ever reached.
 *
 * Concurrency: a tracker belongs to one statement; other sessions have their own. Within a
 * statement, operators run one at a time except subqueries evaluated under one Promise.all,
 * whose `charge`s may land in each other's scope: totals stay right, attribution may not.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { ExecCtx } from './eval.js';
import type { Rel } from './rel.js';
import { Decimal } from '../types/decimal.js';

/** The executor's budget when a session has no `memory_limit` setting at all (the engine always sets one). */
export const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;

const UNITS: Readonly<Record<string, number>> = {
  b: 1, '': 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/**
 * Bytes of a `memory_limit` value: a plain number is bytes; units kB, MB, GB, TB (1024-based, as
 * PostgreSQL's memory units) and KiB / MiB / GiB / TiB. Returns Infinity for 0 or negative (no
 * limit). Throws 22023 on anything else.
 */
export function parseMemorySize(text: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new DbError(SqlState.InvalidParameterValue, `invalid value for parameter "memory_limit": "${text}"`,
      { hint: 'Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".' });
  }
  const n = Number(m[1]) * unit;
  return n <= 0 ? Infinity : Math.floor(n);
}

/** One statement's memory budget. */
export class MemoryTracker {
  #used = 0;
  #peak = 0;
  /** reservations of the operators running now, innermost last (`operatorScope` / `charge`) */
  readonly scopes: MemoryReservation[] = [];
  constructor(readonly limit: number) {}

  get used(): number { return this.#used; }
  get peak(): number { return this.#peak; }
  /** Bytes still available (Infinity without a limit). */
  get available(): number { return this.limit - this.#used; }

  /** A new, empty reservation for `operator` (its name appears in the 53200 error). */
  reserve(operator: string): MemoryReservation { return new MemoryReservation(this, operator); }

  /** @internal used by MemoryReservation */
  take(bytes: number, operator: string, fail: boolean): boolean {
    if (this.#used + bytes > this.limit) {
      if (!fail) return false;
      throw new DbError(SqlState.OutOfMemory, `out of memory: ${operator} needs ${formatBytes(bytes)} more, ${formatBytes(this.#used)} of memory_limit ${formatBytes(this.limit)} in use`, {
        hint: `The ${operator} does not fit in memory_limit; raise it (SET memory_limit = '...') or make the ${operator} smaller.`,
      });
    }
    this.#used += bytes;
    if (this.#used > this.#peak) this.#peak = this.#used;
    return true;
  }

  /** @internal used by MemoryReservation */
  give(bytes: number): void { this.#used -= bytes; }

  checkInvariants(live: readonly MemoryReservation[] = []): void {
    if (this.#used < 0) throw new Error(`tracker used ${this.#used} < 0`);
    if (this.#peak < this.#used) throw new Error('tracker peak below used');
    if (live.length > 0) {
      const sum = live.reduce((s, r) => s + r.bytes, 0);
      if (sum !== this.#used) throw new Error(`tracker used ${this.#used} != sum of reservations ${sum}`);
    }
  }
}

/** Bytes held by one operator, returned to the tracker by `shrink` / `release`. */
export class MemoryReservation {
  #bytes = 0;
  constructor(readonly tracker: MemoryTracker, readonly operator: string) {}

  get bytes(): number { return this.#bytes; }

  /** Take `bytes` more, or fail with 53200 naming the operator. */
  grow(bytes: number): void {
    if (!(bytes > 0)) return;
    this.tracker.take(bytes, this.operator, true);
    this.#bytes += bytes;
  }

  /** Take `bytes` more if they fit; false (and nothing taken) if not. */
  tryGrow(bytes: number): boolean {
    if (!(bytes > 0)) return true;
    if (!this.tracker.take(bytes, this.operator, false)) return false;
    this.#bytes += bytes;
    return true;
  }

  shrink(bytes: number): void {
    const b = Math.min(Math.max(bytes, 0), this.#bytes);
    this.#bytes -= b;
    this.tracker.give(b);
  }

  release(): void { this.shrink(this.#bytes); }
}

const trackers = new WeakMap<ExecCtx, MemoryTracker>();

/** The statement's tracker (created on first use from the `memory_limit` setting). */
export function memoryOf(ctx: ExecCtx): MemoryTracker {
  let t = trackers.get(ctx);
  if (!t) {
    const s = ctx.settings.get('memory_limit');
    t = new MemoryTracker(s === undefined || s === '' ? DEFAULT_MEMORY_LIMIT : parseMemorySize(s));
    trackers.set(ctx, t);
  }
  return t;
}

/** A new reservation of the statement for `operator`. */
export function reserve(ctx: ExecCtx, operator: string): MemoryReservation {
  return memoryOf(ctx).reserve(operator);
}

/**
 * Run one operator with its own reservation, which `charge` (called anywhere inside it) grows and
 * which is released when the operator settles. The hook in the executor's dispatch:
 * `case 'agg': return operatorScope(ctx, 'hash aggregate', () => execAgg(plan, ctx));`
 */
export async function operatorScope<R>(ctx: ExecCtx, operator: string, body: () => Promise<R>): Promise<R> {
  const t = memoryOf(ctx);
  const r = t.reserve(operator);
  t.scopes.push(r);
  try { return await body(); } finally {
    r.release();
    const i = t.scopes.lastIndexOf(r);
    if (i >= 0) t.scopes.splice(i, 1);
  }
}

/**
 * Account `bytes` more of state to the innermost running operator (53200 naming it when over
 * the limit). Outside any operator scope the bytes stay charged to the statement.
 */
export function charge(ctx: ExecCtx, bytes: number): void {
  const t = memoryOf(ctx);
  let r = t.scopes[t.scopes.length - 1];
  if (!r) { r = t.reserve('query'); t.scopes.push(r); }
  r.grow(bytes);
}

/**
 * `charge` the group state of a hash table: `ids.count` entries of `perGroup` bytes besides the
 * table entry, and a group id per input row. Returns `ids` (a pass-through hook).
 */
export function chargeGroups<K extends { readonly count: number }>(ctx: ExecCtx, ids: K, rows: number, perGroup = 0): K {
  charge(ctx, ids.count * (HASH_ENTRY_BYTES + perGroup) + rows * 4);
  return ids;
}

/**
 * The memory hook of a streaming hash aggregation: a function to call after each batch with the
 * current group count and the batch's row count. It `charge`s, for each group added since the
 * last call, its table entry, key and per-aggregate state, and for each row, an upper bound of
 * what aggregates with per-value state keep (a DISTINCT set entry, a string_agg / percentile
 * value).
 */
export function aggStateCharger(ctx: ExecCtx, groupCols: number, aggs: readonly { readonly name: string; readonly distinct: boolean }[]): (groups: number, rows: number) => void {
  const perGroup = 16 * (groupCols + aggs.length) + HASH_ENTRY_BYTES * Math.max(1, groupCols);
  let perRow = 0;
  for (const a of aggs) {
    if (a.distinct) perRow += HASH_ENTRY_BYTES;
    else if (a.name === 'string_agg' || a.name === 'array_agg' || a.name.startsWith('percentile')) perRow += 32;
  }
  let charged = 0;
  return (groups, rows) => {
    const bytes = Math.max(0, groups - charged) * perGroup + rows * perRow;
    if (bytes === 0) return;
    charge(ctx, bytes);
    charged = Math.max(charged, groups);
  };
}

/**
 * Check that a hash set of `ids.count` entries over `rows` rows, plus `extra` bytes, fits now
 * (DISTINCT, set operations: state that dies with the operator). Returns `ids`.
 */
export function checkGroups<K extends { readonly count: number }>(ctx: ExecCtx, operator: string, ids: K, rows: number, extra = 0): K {
  checkMemory(ctx, operator, ids.count * HASH_ENTRY_BYTES + rows * 4 + extra);
  return ids;
}

/** Check that `bytes` of `operator` state fit right now (nothing stays reserved). */
export function checkMemory(ctx: ExecCtx, operator: string, bytes: number): void {
  const r = reserve(ctx, operator);
  r.grow(bytes);
  r.release();
}

// ---------------------------------------------------------------------------------------------
// Estimates

const SLOT = 8;
const SAMPLE = 64;

/** Estimated bytes of one internal value held in a JS array (slot included). */
export function valueBytes(v: unknown): number {
  switch (typeof v) {
    case 'number': return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? SLOT : SLOT + 16;
    case 'string': return SLOT + 24 + (isOneByte(v) ? v.length : 2 * v.length);
    case 'bigint': return SLOT + 24;
    case 'boolean': case 'undefined': return SLOT;
    case 'object':
      if (v === null) return SLOT;
      if (v instanceof Decimal) return SLOT + 48;
      if (ArrayBuffer.isView(v)) return SLOT + 64 + v.byteLength;
      if (Array.isArray(v)) { let s = SLOT + 32; for (const x of v) s += valueBytes(x); return s; }
      return SLOT + 56;
    default: return SLOT + 32;
  }
}

function isOneByte(s: string): boolean {
  const n = Math.min(s.length, 32);
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 255) return false;
  return true;
}

/** Estimated bytes of a column of n rows (typed arrays exact; JS arrays from a sample). */
export function columnBytes(col: ArrayLike<unknown>, n = col.length): number {
  if (ArrayBuffer.isView(col)) return (col as unknown as ArrayBufferView).byteLength;
  if (n === 0) return 0;
  if (n <= SAMPLE) { let s = 0; for (let i = 0; i < n; i++) s += valueBytes(col[i]); return s; }
  const step = n / SAMPLE;
  let s = 0;
  for (let k = 0; k < SAMPLE; k++) s += valueBytes(col[Math.floor(k * step)]);
  return Math.ceil((s / SAMPLE) * n);
}

/** Estimated bytes of a Rel's columns. */
export function relBytes(r: Rel): number {
  let s = 0;
  for (const c of r.cols) s += columnBytes(c, r.n);
  return s;
}

/** Per-entry overhead of a JS Map / Set (hash table slot, entry, key box). */
export const HASH_ENTRY_BYTES = 48;

function formatBytes(b: number): string {
  if (b === Infinity) return 'unlimited';
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(1)} GB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(1)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} kB`;
  return `${b} bytes`;
}
