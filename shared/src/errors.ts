/**
 * The few error classes gpuwarden throws. Each has a stable `code` to branch
 * on (never branch on message text) and an optional `cause`.
 */

/** Stable codes of {@link GpuwardenError}. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'INPUT_INVALID'
  | 'SOURCE_UNAVAILABLE'
  | 'AUTH_REJECTED'
  | 'STORE_FAILED'
  | 'INTERNAL';

/** Base class: a one-line message that says what and what to do. */
export class GpuwardenError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GpuwardenError';
    this.code = code;
  }
}

/**
 * Bad configuration: names the field, the rule it broke and the value that
 * came, e.g. `guard.grace must be a duration like 30s, got "soon"`.
 */
export class ConfigError extends GpuwardenError {
  readonly field: string;

  constructor(field: string, rule: string, got: unknown, source?: string) {
    const where = source ? `${source}: ` : '';
    super('CONFIG_INVALID', `${where}${field} ${rule}, got ${show(got)}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** Bad command-line usage (exit code 2). */
export class UsageError extends GpuwardenError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** Renders a config value for an error message, short and unambiguous. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The exit code a failure maps to: 2 for usage and config, else 1. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof GpuwardenError) {
    return error.code === 'CONFIG_INVALID' || error.code === 'USAGE' ? 2 : 1;
  }
  return 1;
}
