/**
 * Following Ollama's log as it grows: `journalctl -u <unit> -f -o json`
 * through execa, or a plain file read from where it ended last time
 * (truncation and rotation start over from the top). Both deliver new
 * lines only, never the history before `start()`.
 */
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { parseJournalEntry } from './log-line.ts';
import type { RawLogLine } from './log-line.ts';

/** A source of new log lines. */
export interface LogFollower {
  /** Starts delivering lines to `onLine`. */
  start(onLine: (line: RawLogLine) => void): void;
  /** Stops and releases the process or file. */
  stop(): Promise<void>;
}

/** Wait before restarting journalctl after it exited, ms. */
export const JOURNAL_RESTART_MS = 5000;

/** Follows a systemd unit's journal. */
export function createJournalFollower(
  options: { unit: string },
  deps: { clock: Clock; logger: Logger },
): LogFollower {
  const log = deps.logger.child({
    component: 'ollama-log',
    unit: options.unit,
  });
  let stopped = false;
  let child: ReturnType<typeof execa> | null = null;
  let cancelRestart = (): void => {};
  let failures = 0;

  const run = (onLine: (line: RawLogLine) => void): void => {
    const args = [
      '-u',
      options.unit,
      '-f',
      '-o',
      'json',
      '-n',
      '0',
      '--no-pager',
    ];
    const proc = execa('journalctl', args, {
      reject: false,
      buffer: false,
      stdin: 'ignore',
    });
    child = proc;
    if (proc.stdout) {
      createInterface({ input: proc.stdout }).on('line', (text) => {
        const line = parseJournalEntry(text);
        if (line) onLine(line);
      });
    }
    void proc.then((result) => {
      // A journalctl that ends is restarted; the first failure is logged.
      if (stopped) return;
      failures += 1;
      if (failures === 1) {
        log.warn(
          {
            exitCode: result.exitCode ?? null,
            stderr: String(result.stderr ?? '').slice(0, 200),
          },
          'journalctl ended, retrying',
        );
      }
      cancelRestart = deps.clock.setTimeout(
        () => run(onLine),
        JOURNAL_RESTART_MS,
      );
    });
  };

  return {
    start: (onLine) => run(onLine),
    stop: async () => {
      stopped = true;
      cancelRestart();
      const proc = child;
      if (proc) {
        proc.kill('SIGTERM');
        await proc.catch(() => undefined);
      }
    },
  };
}

// At most this much is read per poll; a burst is caught up over polls.
const MAX_READ_BYTES = 4 * 2 ** 20;

/** Follows a log file, polling its size every `pollMs`. */
export function createFileFollower(
  options: { path: string; pollMs: number },
  deps: { clock: Clock; logger: Logger },
): LogFollower {
  const log = deps.logger.child({
    component: 'ollama-log',
    path: options.path,
  });
  let offset: number | null = null;
  let inode: number | null = null;
  let rest = '';
  let decoder = new StringDecoder('utf8');
  let busy = false;
  let cancel = (): void => {};
  let missing = false;

  const tick = async (onLine: (line: RawLogLine) => void): Promise<void> => {
    let info: { size: number; ino: number };
    try {
      info = await stat(options.path);
    } catch (error) {
      if (!missing) log.warn({ err: error }, 'ollama log file unreadable');
      missing = true;
      // A file that appears later is read from its first line.
      offset ??= 0;
      return;
    }
    missing = false;
    if (offset === null) offset = info.size;
    if (info.size < offset || (inode !== null && info.ino !== inode)) {
      offset = 0;
      rest = '';
      decoder = new StringDecoder('utf8');
    }
    inode = info.ino;
    if (info.size === offset) return;

    const to = Math.min(info.size, offset + MAX_READ_BYTES);
    const text = decoder.write(await readRange(options.path, offset, to));
    offset = to;
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() !== '')
        onLine({ text: line.replace(/\r$/, ''), stampMs: null });
    }
  };

  return {
    start: (onLine) => {
      const safeTick = (): void => {
        if (busy) return;
        busy = true;
        tick(onLine)
          .catch((error: unknown) =>
            log.warn({ err: error }, 'ollama log read failed'),
          )
          .finally(() => {
            busy = false;
          });
      };
      safeTick();
      cancel = deps.clock.setInterval(safeTick, options.pollMs);
    },
    stop: async () => {
      cancel();
    },
  };
}

async function readRange(
  path: string,
  from: number,
  to: number,
): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
