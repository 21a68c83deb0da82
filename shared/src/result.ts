/**
 * Expected failures are values, not exceptions: a `Result` is either
 * `{ ok: true, value }` or `{ ok: false, error }`.
 */

/** A success carrying `value`. */
export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

/** A failure carrying `error`. */
export interface Err<E> {
  readonly ok: false;
  readonly error: E;
}

/** Either a value or an expected error. */
export type Result<T, E = Error> = Ok<T> | Err<E>;

/** Wraps a value as a success. */
export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

/** Wraps an error as a failure. */
export function err<E>(error: E): Err<E> {
  return { ok: false, error };
}
