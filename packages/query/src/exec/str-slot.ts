/**
 * The slot of a string in a small table of strings: from its length and its first and last
 * characters, so it costs no hashing of the whole string. Used by short string IN lists
 * (filter-select.ts) and small string group dictionaries (group-table.ts), which keep per slot
 * the one entry a string there may equal (and check it with ===).
 *
 * Invariants:
 *  1. `strSlot(s)` is in [0, STR_SLOTS) and depends on s only (equal strings share a slot).
 */

/** Slots of a table (a power of two). */
export const STR_SLOTS = 1024;

export function strSlot(v: string): number {
  const len = v.length;
  return len === 0 ? 0 : (Math.imul(len, 37) ^ v.charCodeAt(0) ^ (v.charCodeAt(len - 1) << 3)) & (STR_SLOTS - 1);
}
