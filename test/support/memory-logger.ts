/** A pino logger writing into memory, so tests assert on logged fields. */
import { Writable } from 'node:stream';
import { createLogger } from '../../shared/src/logger.ts';
import type { Logger } from '../../shared/src/logger.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export function createMemoryLogger(level = 'debug'): {
  logger: Logger;
  lines: LogLine[];
} {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) {
        if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, lines };
}
