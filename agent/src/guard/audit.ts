/**
 * The audit log: one JSON line per guard decision or action, appended to a
 * file in the agent's state dir (the same events also stream to the
 * collector). Writes are serialised so lines never interleave; a failed
 * write is logged and counted, never thrown into the guard.
 */
import type { GuardEvent } from '../../../shared/src/messages.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';

/** One audit line: the event plus when (ISO) and where. */
export interface AuditRecord extends GuardEvent {
  ts: string;
  node: string;
}

/** Renders one event as its audit line (with the newline). */
export function formatAuditLine(node: string, event: GuardEvent): string {
  const record: AuditRecord = {
    ts: new Date(event.atMs).toISOString(),
    node,
    ...event,
  };
  return `${JSON.stringify(record)}\n`;
}

/** Appends audit lines to one file, in order. */
export class AuditLog {
  private tail: Promise<void> = Promise.resolve();
  private failures = 0;
  private readonly log: Logger;

  constructor(
    private readonly options: { file: string; node: string },
    private readonly deps: { fs: Fs; logger: Logger },
  ) {
    this.log = deps.logger.child({ component: 'guard-audit' });
  }

  /** Queues one event; resolves when it (and those before) are written. */
  append(event: GuardEvent): Promise<void> {
    const line = formatAuditLine(this.options.node, event);
    this.tail = this.tail.then(() => this.write(line));
    return this.tail;
  }

  /** Failed writes so far. */
  failedWrites(): number {
    return this.failures;
  }

  /** Resolves when every queued line is written. */
  flush(): Promise<void> {
    return this.tail;
  }

  private async write(line: string): Promise<void> {
    try {
      await this.deps.fs.appendFile(this.options.file, line);
    } catch (error) {
      this.failures += 1;
      this.log.error(
        { err: error, file: this.options.file, failures: this.failures },
        'audit write failed',
      );
    }
  }
}
