/**
 * Lock modes and their conflict tables, as PostgreSQL defines them (explicit-locking chapter).
 *
 * Table-level modes (weakest to strongest; also used for transaction-id locks and named objects):
 *
 *                          AS  RS  RE  SUE  S  SRE  E  AE
 *   ACCESS SHARE                                        X
 *   ROW SHARE                                       X   X
 *   ROW EXCLUSIVE                           X   X   X   X
 *   SHARE UPDATE EXCLUSIVE             X    X   X   X   X
 *   SHARE                      X       X        X   X   X
 *   SHARE ROW EXCLUSIVE        X       X    X   X   X   X
 *   EXCLUSIVE              X   X       X    X   X   X   X
 *   ACCESS EXCLUSIVE   X   X   X       X    X   X   X   X
 *
 * Row-level modes:
 *
 *                       KS  S  NKU  U
 *   FOR KEY SHARE                   X
 *   FOR SHARE                  X    X
 *   FOR NO KEY UPDATE       X  X    X
 *   FOR UPDATE          X   X  X    X
 *
 * Invariants:
 *  1. Both conflict relations are symmetric (checked by `checkConflictTables()` and the tests).
 *  2. The two families never meet on one lock object: table modes lock tables, transaction ids and
 *     named objects; row modes lock rows (`LockManager` enforces it per target kind).
 *  3. The mode unions are closed and exhaustive; the strings are user-visible (system view,
 *     `LOCK TABLE ... IN <mode> MODE`): DO NOT RENAME.
 *
 * Concurrency: pure data and functions.
 */
import { DbError, SqlState } from '@quiverdb/common';

export const TABLE_LOCK_MODES = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;
export type TableLockMode = (typeof TABLE_LOCK_MODES)[number];

export const ROW_LOCK_MODES = ['FOR KEY SHARE', 'FOR SHARE', 'FOR NO KEY UPDATE', 'FOR UPDATE'] as const;
export type RowLockMode = (typeof ROW_LOCK_MODES)[number];

export type LockMode = TableLockMode | RowLockMode;

/** Bit i stands for TABLE_LOCK_MODES[i] (0..7) or ROW_LOCK_MODES[i - 8] (8..11). */
const BIT: Record<LockMode, number> = {
  'ACCESS SHARE': 1 << 0,
  'ROW SHARE': 1 << 1,
  'ROW EXCLUSIVE': 1 << 2,
  'SHARE UPDATE EXCLUSIVE': 1 << 3,
  SHARE: 1 << 4,
  'SHARE ROW EXCLUSIVE': 1 << 5,
  EXCLUSIVE: 1 << 6,
  'ACCESS EXCLUSIVE': 1 << 7,
  'FOR KEY SHARE': 1 << 8,
  'FOR SHARE': 1 << 9,
  'FOR NO KEY UPDATE': 1 << 10,
  'FOR UPDATE': 1 << 11,
};

function maskOf(modes: readonly LockMode[]): number {
  let m = 0;
  for (const x of modes) m |= BIT[x];
  return m;
}

/** For each mode, the set of modes it conflicts with. */
const CONFLICTS: Record<LockMode, number> = {
  'ACCESS SHARE': maskOf(['ACCESS EXCLUSIVE']),
  'ROW SHARE': maskOf(['EXCLUSIVE', 'ACCESS EXCLUSIVE']),
  'ROW EXCLUSIVE': maskOf(['SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']),
  'SHARE UPDATE EXCLUSIVE': maskOf(['SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']),
  SHARE: maskOf(['ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']),
  'SHARE ROW EXCLUSIVE': maskOf(['ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']),
  EXCLUSIVE: maskOf(['ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']),
  'ACCESS EXCLUSIVE': maskOf([...TABLE_LOCK_MODES]),
  'FOR KEY SHARE': maskOf(['FOR UPDATE']),
  'FOR SHARE': maskOf(['FOR NO KEY UPDATE', 'FOR UPDATE']),
  'FOR NO KEY UPDATE': maskOf(['FOR SHARE', 'FOR NO KEY UPDATE', 'FOR UPDATE']),
  'FOR UPDATE': maskOf([...ROW_LOCK_MODES]),
};

/** Do two requests in modes `a` and `b`, by different transactions, conflict? */
export function modesConflict(a: LockMode, b: LockMode): boolean {
  return (CONFLICTS[a] & BIT[b]) !== 0;
}

/** The bit of a mode, for held-mode masks. */
export function modeBit(m: LockMode): number {
  return BIT[m];
}

/** The mask of modes `m` conflicts with. */
export function conflictMaskOf(m: LockMode): number {
  return CONFLICTS[m];
}

/** Number of distinct modes (bits 0..MODE_COUNT-1 are used). */
export const MODE_COUNT = 12;

/** Does `mode` conflict with any mode in the mask `held`? */
export function conflictsWithMask(mode: LockMode, held: number): boolean {
  return (CONFLICTS[mode] & held) !== 0;
}

export function isTableLockMode(m: string): m is TableLockMode {
  return (TABLE_LOCK_MODES as readonly string[]).includes(m);
}
export function isRowLockMode(m: string): m is RowLockMode {
  return (ROW_LOCK_MODES as readonly string[]).includes(m);
}

/**
 * Parse a mode as written in SQL (`LOCK TABLE t IN share row exclusive MODE`, `FOR NO KEY UPDATE`),
 * case and spacing insensitive. Unknown text gets 22023.
 */
export function parseLockMode(text: string): LockMode {
  const norm = text.trim().replace(/\s+/g, ' ').toUpperCase();
  if (isTableLockMode(norm) || isRowLockMode(norm)) return norm;
  throw new DbError(SqlState.InvalidParameterValue, `unknown lock mode "${text}"`);
}

/** Executable twin of invariant 1. */
export function checkConflictTables(): void {
  const all = [...TABLE_LOCK_MODES, ...ROW_LOCK_MODES];
  for (const a of all) {
    for (const b of all) {
      if (modesConflict(a, b) !== modesConflict(b, a)) {
        throw new DbError(SqlState.InternalError, `internal error (this is a bug): lock conflict table not symmetric for ${a} / ${b}`);
      }
    }
  }
}
