/**
 * Sequences (CREATE SEQUENCE, serial and identity columns): their values are handed out outside
 * transactions, as in PostgreSQL — a rolled-back nextval() is not given back.
 *
 * Durability: the catalog entry `q/<schema>.<name>` holds the definition; `qv/<schema>.<name>`
 * holds the high-water mark: no value above it has been handed out. nextval() takes values from
 * a block (BLOCK values, as PostgreSQL's SEQ_LOG_VALS) and a transaction that used a sequence
 * writes the current mark with its commit, so after a crash every value a committed row holds is
 * at or below the recovered mark and the sequence resumes above it (values handed out but never
 * committed may be skipped, as PostgreSQL skips them after a crash).
 *
 * Invariants:
 *  1. `last` (the last value handed out, if `called`) never passes `hw` in the direction of the
 *     increment.
 *  2. For each sequence, the `qv/` entry written at any commit is >= every value any transaction
 *     committed before it used.
 */
import { DbError, SqlState } from '@quiverdb/common';
import type { SequenceDef } from '@quiverdb/query';
import type { Database } from '../database.js';

const BLOCK = 32n;

export interface SequenceState {
  def: SequenceDef & { schema: string };
  /** last value handed out, when `called` */
  last: bigint;
  called: boolean;
  /** what nextval returns when not `called` (START, setval(v, false), RESTART) */
  pending: bigint;
  /** high-water mark (persisted): no value beyond it was handed out; null = none yet */
  hw: bigint | null;
}

export const seqKey = (schema: string, name: string) => `${schema}.${name}`;
export const seqDefKey = (key: string) => `q/${key}`;
export const seqValueKey = (key: string) => `qv/${key}`;

export class SequenceRuntime {
  readonly #states = new Map<string, SequenceState>();

  /** The live state of a sequence, loaded from its persisted mark on first use. */
  state(db: Database, key: string, def: SequenceDef & { schema: string }): SequenceState {
    let s = this.#states.get(key);
    if (!s) {
      const stored = db.store.metaEntries().get(seqValueKey(key));
      // after a restart resume above the mark (values in between may be skipped, as in PostgreSQL)
      s = stored !== undefined
        ? { def, last: BigInt(stored), called: true, pending: def.start, hw: BigInt(stored) }
        : { def, last: def.start, called: false, pending: def.start, hw: null };
      this.#states.set(key, s);
    }
    return s;
  }

  /** Forget a sequence's live state (dropped, or created anew by a rolled-back DDL). */
  forget(key: string): void {
    this.#states.delete(key);
  }

  next(s: SequenceState): bigint {
    const { increment, min, max, cycle } = s.def;
    let v = s.called ? s.last + increment : s.pending;
    let wrapped = false;
    if (v > max || v < min) {
      if (!cycle) {
        throw new DbError(SqlState.ObjectNotInPrerequisiteState,
          `nextval: reached ${v > max ? 'maximum' : 'minimum'} value of sequence "${s.def.name}" (${v > max ? max : min})`);
      }
      v = increment > 0n ? min : max;
      wrapped = true;
    }
    s.last = v;
    s.called = true;
    const beyond = s.hw === null || wrapped || (increment > 0n ? v > s.hw : v < s.hw);
    if (beyond) {
      let hw = v + increment * (BLOCK - 1n);
      if (hw > max) hw = max;
      if (hw < min) hw = min;
      s.hw = hw;
    }
    return v;
  }

  /** setval(value, isCalled): the next nextval returns value + increment (or value). */
  set(s: SequenceState, value: bigint, isCalled: boolean): bigint {
    const { min, max } = s.def;
    if (value < min || value > max) {
      throw new DbError(SqlState.NumericValueOutOfRange, `setval: value ${value} is out of bounds for sequence "${s.def.name}" (${min}..${max})`);
    }
    if (isCalled) {
      s.last = value;
      s.called = true;
      s.hw = value;
    } else {
      s.pending = value;
      s.called = false;
      s.hw = value - s.def.increment;
    }
    return value;
  }

  /** ALTER SEQUENCE ... RESTART [WITH value]. */
  restart(s: SequenceState, value: bigint | undefined): void {
    this.set(s, value ?? s.def.start, false);
  }

  /** The persisted form of the mark (`qv/` entry). */
  stored(s: SequenceState): string | undefined {
    return s.hw === null ? undefined : s.hw.toString();
  }
}

/** JSON.stringify replacer for bigint fields of a definition. */
export function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? { $n: v.toString() } : v;
}

/** JSON.parse reviver matching `big`. */
export function unbig(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && '$n' in (v as Record<string, unknown>) && Object.keys(v as object).length === 1) {
    return BigInt((v as { $n: string }).$n);
  }
  return v;
}
