/**
 * `invariant(cond, msg)`: throws an InternalError ("this is a bug") when an internal
 * assumption is broken. Use it for states the code itself must never reach, never for bad input
 * (bad input gets a DbError with its own SQLSTATE).
 */
import { InternalError } from './errors.js';

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new InternalError(typeof message === 'function' ? message() : message);
  }
}

/** For exhaustive switches over closed unions: a compile error if a case is missing. */
export function unreachable(value: never, what = 'value'): never {
  throw new InternalError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
