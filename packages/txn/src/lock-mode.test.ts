import { describe, expect, it } from 'vitest';
import { isDbError, SqlState } from '@quiverdb/common';
import { checkConflictTables, modesConflict, parseLockMode, ROW_LOCK_MODES, TABLE_LOCK_MODES } from './lock-mode.js';

// PostgreSQL documentation, "Conflicting Lock Modes" (table 13.2), row = requested, column = held,
// in the order AS RS RE SUE S SRE E AE. Written out by hand, independent of the implementation.
const PG_TABLE = [
  '.......X',
  '......XX',
  '....XXXX',
  '...XXXXX',
  '..XX.XXX',
  '..XXXXXX',
  '.XXXXXXX',
  'XXXXXXXX',
];
// "Conflicting Row-Level Locks" (table 13.3), order KS S NKU U.
const PG_ROW = ['...X', '..XX', '.XXX', 'XXXX'];

describe('lock modes', () => {
  it('table modes follow PostgreSQL conflict table exhaustively', () => {
    TABLE_LOCK_MODES.forEach((a, i) => {
      TABLE_LOCK_MODES.forEach((b, j) => {
        expect(modesConflict(a, b), `${a} vs ${b}`).toBe(PG_TABLE[i]![j] === 'X');
      });
    });
  });
  it('row modes follow PostgreSQL row conflict table exhaustively', () => {
    ROW_LOCK_MODES.forEach((a, i) => {
      ROW_LOCK_MODES.forEach((b, j) => {
        expect(modesConflict(a, b), `${a} vs ${b}`).toBe(PG_ROW[i]![j] === 'X');
      });
    });
  });
  it('both tables are symmetric', () => {
    expect(() => checkConflictTables()).not.toThrow();
  });
  it('parses SQL spellings and rejects unknown modes with 22023', () => {
    expect(parseLockMode(' share   row exclusive ')).toBe('SHARE ROW EXCLUSIVE');
    expect(parseLockMode('for no key update')).toBe('FOR NO KEY UPDATE');
    let err: unknown;
    try { parseLockMode('exclusive-ish'); } catch (e) { err = e; }
    expect(isDbError(err, SqlState.InvalidParameterValue)).toBe(true);
  });
});
