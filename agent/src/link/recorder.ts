/**
 * `gpuwarden-agent run --record FILE`: writes every message the agent
 * sends as one JSON line (format: `shared/src/proto/recording.ts`), in
 * seq order, appended to FILE. Writes are batched and never block the
 * caller; a failed write is logged once per failure streak.
 */
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { formatRecordingLine } from '../../../shared/src/proto/recording.ts';

/** Collaborators of the recorder. */
export interface RecorderDeps {
  fs: Fs;
  logger: Logger;
}

/** Appends messages to a recording file. */
export interface Recorder {
  /** Queues one message; returns at once. */
  record(message: AgentMessage): void;
  /** Resolves when everything queued so far is written. */
  flush(): Promise<void>;
}

/** Creates a recorder appending to `file`. */
export function createRecorder(file: string, deps: RecorderDeps): Recorder {
  let queued: string[] = [];
  let writing: Promise<void> | null = null;
  let failing = false;
  const log = deps.logger.child({ component: 'recorder', file });

  const writeQueued = async (): Promise<void> => {
    while (queued.length > 0) {
      const text = queued.join('');
      queued = [];
      try {
        await deps.fs.appendFile(file, text);
        if (failing) log.info({}, 'recording writes again');
        failing = false;
      } catch (error) {
        if (!failing)
          log.error({ err: error }, 'recording write failed; lines lost');
        failing = true;
      }
    }
  };

  return {
    record(message) {
      queued.push(formatRecordingLine(message));
      writing ??= writeQueued().finally(() => {
        writing = null;
      });
    },
    async flush() {
      while (writing !== null) await writing;
    },
  };
}
