/**
 * Helpers for link tests: configs with short timeouts, an in-process
 * ingest on 127.0.0.1:0 with a recording sink, tokens, child processes
 * that print a line when ready, and bounded waiting on real events.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LinkConfig } from '../../agent/src/link/link-config.ts';
import {
  createAgentToken,
  hashToken,
} from '../../collector/src/ingest/agent-tokens.ts';
import { FleetState } from '../../collector/src/ingest/fleet-state.ts';
import { startIngestServer } from '../../collector/src/ingest/ingest-server.ts';
import type { MessageSink } from '../../collector/src/ingest/message-sink.ts';
import type {
  IngestServer,
  IngestServerOptions,
} from '../../collector/src/ingest/ingest-server.ts';
import { createSystemClock } from '../../shared/src/clock.ts';
import { createNodeFs } from '../../shared/src/fs.ts';
import type { Logger } from '../../shared/src/logger.ts';
import { createSilentLogger } from '../../shared/src/logger.ts';
import { LATENCY_BOUNDS_MS } from '../../shared/src/messages.ts';
import type { AgentMessage, AgentPayload } from '../../shared/src/messages.ts';

/** A fresh temporary directory. */
export function tempDir(prefix = 'gpuwarden-link-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A link config for tests: fast reconnects, a small outbox. */
export function testLinkConfig(address: string, tokenFile: string): LinkConfig {
  return {
    address,
    tokenFile,
    tls: null,
    insecure: false,
    outbox: {
      dir: null,
      maxBytes: 64 * 1024 * 1024,
      memoryMaxBytes: 4 * 1024 * 1024,
      thinIntervalMs: 10_000,
    },
    reconnect: { initialMs: 50, maxMs: 200 },
    ackTimeoutMs: 10_000,
  };
}

/** SLI event number `i` (a small message that must never be dropped). */
export function sliPayload(i: number): AgentPayload {
  const startMs = 1772287200000 + i * 1000;
  const latencyCounts = LATENCY_BOUNDS_MS.map(() => 0).concat([0]);
  latencyCounts[2] = i % 7;
  return {
    type: 'sli',
    sli: {
      source: 'probe',
      workload: 'ollama',
      model: 'qwen2.5:32b',
      intervalStartMs: startMs,
      intervalEndMs: startMs + 1000,
      total: i % 7,
      failed: 0,
      latencyCounts,
    },
  };
}

/** A token for `node` written to a file in `dir`; returns both. */
export function writeToken(
  dir: string,
  node: string,
): { token: string; file: string; tokenSha256: string } {
  const token = createAgentToken(node);
  const file = path.join(dir, `${node}.token`);
  writeFileSync(file, `${token}\n`);
  return { token, file, tokenSha256: hashToken(token) };
}

/** An in-process ingest whose sink records what it got. */
export interface TestIngest {
  server: IngestServer;
  fleet: FleetState;
  applied: AgentMessage[];
  address: string;
}

/**
 * Starts an ingest on 127.0.0.1:0 with a journal under `dir`; its sink
 * collects what it is given in `applied`, unless `sink` is given.
 */
export async function startTestIngest(
  dir: string,
  overrides: Partial<IngestServerOptions> = {},
  logger: Logger = createSilentLogger(),
  sink: MessageSink | null = null,
): Promise<TestIngest> {
  const fleet = new FleetState();
  const applied: AgentMessage[] = [];
  const server = await startIngestServer(
    {
      listen: { host: '127.0.0.1', port: 0 },
      tls: null,
      allowPlaintext: false,
      tokensFile: null,
      maxMessageBytes: 4 * 1024 * 1024,
      rateLimit: { messagesPerSecond: 100_000, burstMessages: 100_000 },
      journal: {
        dir: path.join(dir, 'journal'),
        segmentBytes: 1024 * 1024,
        maxBytes: 16 * 1024 * 1024,
      },
      ...overrides,
    },
    {
      clock: createSystemClock(),
      logger,
      fs: createNodeFs(),
      fleet,
      sink: sink ?? {
        apply: async (_node, messages) => void applied.push(...messages),
      },
    },
  );
  return { server, fleet, applied, address: `127.0.0.1:${server.port}` };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A child process started with tsx and its stdout lines. */
export interface TestChild {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching `pattern` (bounded). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Starts `node --import tsx SCRIPT ARGS` in the repository root. */
export function spawnTs(script: string, args: string[]): TestChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    waiters.forEach((wake) => wake());
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find((line) => pattern.test(line));
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${pattern} from ${script}`)),
        timeoutMs,
      );
      waiters.push(check);
      check();
    });
  return { child, lines, waitForLine };
}

/** Kills a child by PID with `signal` and waits for its exit. */
export function killChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Polls `condition` every 20 ms until true; throws after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
