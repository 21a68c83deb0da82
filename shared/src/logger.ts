/**
 * Structured logging through pino. `main.ts` creates the root logger and
 * hands it down; components call `logger.child({ component })`.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

/** The logger type every component receives in its deps. */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level: `fatal`, `error`, `warn`, `info` (default), `debug`. */
  level?: string;
  /** Where lines go; standard error when omitted. */
  destination?: DestinationStream;
  /** Fields pinned on every line, e.g. `{ service: 'agent' }`. */
  base?: Record<string, unknown>;
}

/** Creates a JSON-lines logger; secrets are redacted by field name. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      redact: { paths: ['token', '*.token', 'authorization'], censor: '***' },
    },
    options.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything, for quiet one-shot commands. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
