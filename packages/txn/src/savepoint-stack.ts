/**
 * A transaction's stack of savepoints, with PostgreSQL's naming rules:
 *  - SAVEPOINT name            pushes; names may repeat (the newer one shadows the older)
 *  - ROLLBACK TO [SAVEPOINT] n rolls back to the MOST RECENT savepoint named n, discards every
 *                              later savepoint and KEEPS n (it can be rolled back to again)
 *  - RELEASE [SAVEPOINT] n     removes the most recent savepoint named n and every later one
 *  A name that is not on the stack gets 3B001.
 *
 * Each entry carries a payload of marks (lock manager mark, storage write-list mark, ...) chosen by
 * whoever pushes it; the stack only orders them.
 *
 * Invariants:
 *  1. Entries are in push order; `depth` = number of entries.
 *  2. Marks inside payloads are non-decreasing from bottom to top (the pusher's responsibility;
 *     `checkInvariants(markOf)` verifies it).
 *
 * Concurrency: used by one session at a time; synchronous.
 */
import { DbError, SqlState, invariant } from '@quiverdb/common';

export interface Savepoint<P> {
  readonly name: string;
  readonly payload: P;
}

export class SavepointStack<P> {
  readonly #entries: Savepoint<P>[] = [];

  get depth(): number { return this.#entries.length; }

  /** The entries, bottom first. */
  entries(): readonly Savepoint<P>[] { return this.#entries; }

  push(name: string, payload: P): Savepoint<P> {
    const sp = { name, payload };
    this.#entries.push(sp);
    return sp;
  }

  /** The most recent savepoint named `name`, or undefined. */
  find(name: string): Savepoint<P> | undefined {
    const i = this.#indexOf(name);
    return i < 0 ? undefined : this.#entries[i];
  }

  /**
   * ROLLBACK TO: returns the savepoint (kept on the stack) and the discarded later ones, newest
   * first (undo order). 3B001 if unknown.
   */
  rollbackTo(name: string): { savepoint: Savepoint<P>; discarded: Savepoint<P>[] } {
    const i = this.#require(name);
    const discarded = this.#entries.splice(i + 1).reverse();
    return { savepoint: this.#entries[i]!, discarded };
  }

  /** RELEASE: removes the savepoint and all later ones; returns them, newest first. 3B001 if unknown. */
  release(name: string): Savepoint<P>[] {
    const i = this.#require(name);
    return this.#entries.splice(i).reverse();
  }

  clear(): void { this.#entries.length = 0; }

  checkInvariants(markOf?: (p: P) => number): void {
    if (!markOf) return;
    for (let i = 1; i < this.#entries.length; i++) {
      invariant(markOf(this.#entries[i - 1]!.payload) <= markOf(this.#entries[i]!.payload), 'savepoint marks decrease up the stack');
    }
  }

  #indexOf(name: string): number {
    for (let i = this.#entries.length - 1; i >= 0; i--) if (this.#entries[i]!.name === name) return i;
    return -1;
  }

  #require(name: string): number {
    const i = this.#indexOf(name);
    if (i < 0) throw new DbError(SqlState.InvalidSavepointSpecification, `savepoint "${name}" does not exist`);
    return i;
  }
}
