/**
 * Normalises anything a query can throw into the fields both protocols report.
 *
 * A `DbError` (from quiverdb / @quiverdb/common) is recognised by shape, not by class identity:
 * an object whose `code` is a 5-character SQLSTATE. That keeps the server working when two copies
 * of the common package are loaded (a bundled app next to a workspace package).
 *
 * Invariants:
 *  1. `code` is always a 5-character SQLSTATE; anything that is not a DbError is XX000.
 *  2. `position` is a 1-based character position or undefined.
 */

export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly position?: number;
  readonly detail?: string;
  readonly hint?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function errorInfo(err: unknown): ErrorInfo {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown; position?: unknown; detail?: unknown; hint?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (typeof e.code === 'string' && SQLSTATE.test(e.code)) {
      const out: { code: string; message: string; position?: number; detail?: string; hint?: string } = { code: e.code, message };
      if (typeof e.position === 'number' && Number.isFinite(e.position) && e.position > 0) out.position = e.position;
      if (typeof e.detail === 'string') out.detail = e.detail;
      if (typeof e.hint === 'string') out.hint = e.hint;
      return out;
    }
    return { code: 'XX000', message: `internal error (this is a bug): ${message}` };
  }
  return { code: 'XX000', message: `internal error (this is a bug): ${String(err)}` };
}

/** HTTP status for an error: 409 for retryable conflicts, 500 for internal/system errors, 503 for shutdown, else 400. */
export function httpStatusFor(code: string): number {
  if (code === '40001' || code === '40P01') return 409;
  if (code.startsWith('XX') || code.startsWith('58')) return 500;
  if (code === '57P01' || code.startsWith('53')) return 503;
  return 400;
}

/** A protocol-level error raised by the server itself (not by the engine). */
export class ProtocolError extends Error {
  readonly code: string;
  /** the session cannot continue (broken framing, unknown message type): FATAL, then close */
  readonly fatal: boolean;
  constructor(code: string, message: string, options: { fatal?: boolean } = {}) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.fatal = options.fatal ?? false;
  }
}
