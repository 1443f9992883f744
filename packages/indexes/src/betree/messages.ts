/**
 * Bε-tree messages: the buffered operations of inner nodes.
 *
 * For one key, one buffer holds at most one message, already combined:
 *   put v     — the value is v
 *   del       — the key is absent
 *   ups [d…]  — apply the user merge function with deltas d1, d2, … (oldest first) to whatever
 *               value lies below
 * `combine(newer, older)` folds two messages for the same key (newer above older in the tree, or
 * later in time) into one, so a query meets at most one message per key and level.
 *
 * Invariants:
 *  1. An `ups` message has at least one delta.
 *  2. applyMsg(combine(n, o), v) == applyMsg(n, applyMsg(o, v)) for every value v.
 */

export const OP_PUT = 0;
export const OP_DEL = 1;
export const OP_UPS = 2;

export type Msg =
  | { readonly op: typeof OP_PUT; readonly v: string }
  | { readonly op: typeof OP_DEL }
  | { readonly op: typeof OP_UPS; readonly d: readonly string[] };

export const DEL: Msg = Object.freeze({ op: OP_DEL });

/** merge(old value or undefined, delta) → new value, or undefined to delete. On binary strings. */
export type BinaryMerge = (old: string | undefined, delta: string) => string | undefined;

/** Serialized size of a buffered message (see the node format in betree.ts). */
export function msgBytes(k: string, m: Msg): number {
  switch (m.op) {
    case OP_PUT: return 5 + k.length + m.v.length;
    case OP_DEL: return 3 + k.length;
    case OP_UPS: {
      let s = 5 + k.length;
      for (const d of m.d) s += 2 + d.length;
      return s;
    }
  }
}

export function applyMsg(m: Msg, old: string | undefined, merge: BinaryMerge): string | undefined {
  switch (m.op) {
    case OP_PUT: return m.v;
    case OP_DEL: return undefined;
    case OP_UPS: {
      let cur = old;
      for (const d of m.d) cur = merge(cur, d);
      return cur;
    }
  }
}

export function combine(newer: Msg, older: Msg, merge: BinaryMerge): Msg {
  if (newer.op !== OP_UPS) return newer;
  if (older.op === OP_UPS) return { op: OP_UPS, d: older.d.concat(newer.d) };
  const v = applyMsg(newer, older.op === OP_PUT ? older.v : undefined, merge);
  return v === undefined ? DEL : { op: OP_PUT, v };
}

/**
 * Merge two sorted message lists, `newer` over `older`, into fresh arrays.
 * REQUIRES: both key lists strictly increasing.
 */
export function mergeLists(nk: readonly string[], nm: readonly Msg[], ok: readonly string[], om: readonly Msg[], merge: BinaryMerge): { keys: string[]; msgs: Msg[] } {
  const keys: string[] = [];
  const msgs: Msg[] = [];
  let i = 0;
  let j = 0;
  while (i < nk.length || j < ok.length) {
    if (j >= ok.length || (i < nk.length && nk[i]! < ok[j]!)) {
      keys.push(nk[i]!);
      msgs.push(nm[i++]!);
    } else if (i >= nk.length || ok[j]! < nk[i]!) {
      keys.push(ok[j]!);
      msgs.push(om[j++]!);
    } else {
      keys.push(nk[i]!);
      msgs.push(combine(nm[i++]!, om[j++]!, merge));
    }
  }
  return { keys, msgs };
}
