/**
 * The demo's child processes: started by it, tracked by pid, ended by it
 * (and only those) when it finishes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** One child the demo started. */
export interface DemoChild {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves with the exit code (or signal name) when it ends. */
  exited: Promise<string>;
}

/** Starts and remembers children; `stopAll` ends exactly those. */
export class ChildSet {
  private readonly children: DemoChild[] = [];

  constructor(private readonly repoRoot: string) {}

  /**
   * Starts `file` with `args` (no shell); standard output and error go to
   * `logFile`. `argv0` names the process (its `comm`).
   */
  start(
    name: string,
    file: string,
    args: string[],
    options: { logFile: string; env?: Record<string, string> },
  ): DemoChild {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    const child = spawn(file, args, {
      cwd: this.repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    if (child.pid === undefined) {
      throw new Error(`could not start ${name} (${file})`);
    }
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? String(code)));
      child.once('error', (err) => resolve(`error: ${err.message}`));
    });
    const entry = { name, pid: child.pid, process: child, exited };
    this.children.push(entry);
    return entry;
  }

  /** Waits until `child` prints a line matching `pattern` (in its log). */
  async waitForOutput(
    child: DemoChild,
    pattern: RegExp,
    timeoutMs: number,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${child.name} did not start within ${timeoutMs / 1000}s; see its log in the demo folder`,
          ),
        );
      }, timeoutMs);
      const onData = (chunk: Buffer): void => {
        text += chunk.toString();
        const match = pattern.exec(text);
        if (match) {
          clearTimeout(timer);
          child.process.stdout?.off('data', onData);
          resolve(match[0]);
        }
      };
      child.process.stdout?.on('data', onData);
      void child.exited.then((how) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${child.name} exited (${how}) before it was ready; see its log in the demo folder`,
          ),
        );
      });
    });
  }

  /** Ends the children named `name` (SIGTERM, SIGKILL after 5 s). */
  async stop(name: string): Promise<void> {
    await this.end(this.children.filter((c) => c.name === name));
  }

  /** Ends every child still running: SIGTERM, then SIGKILL after 5 s. */
  async stopAll(): Promise<void> {
    await this.end(this.children);
  }

  private async end(children: DemoChild[]): Promise<void> {
    const running = children.filter(
      (c) => c.process.exitCode === null && c.process.signalCode === null,
    );
    for (const child of running.reverse()) child.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const child of running) child.process.kill('SIGKILL');
    }, 5000);
    await Promise.all(running.map((c) => c.exited));
    clearTimeout(timer);
  }
}
