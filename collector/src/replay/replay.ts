/**
 * Replay: a recorded agent stream through the collector engine on a
 * simulated clock. The engine, its timer-driven evaluations and the
 * incident side are the live ones; only the clock differs, moved to each
 * message's `sentAtMs` in turn.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { createCollectorEngine } from '../engine/collector-engine.ts';
import type { CollectorEngine, IncidentSink } from '../engine/engine-types.ts';
import type { SloDefinition } from '../slo/slo-config.ts';
import { ManualClock } from '../../../shared/src/manual-clock.ts';

/** Options of {@link runReplay}. */
export interface ReplayOptions {
  /** The stream, in file order; replayed by `sentAtMs`, ties in order. */
  messages: AgentMessage[];
  slos: SloDefinition[];
  /** Evaluation period; the engine's default when omitted. */
  evaluationIntervalMs?: number;
}

/** Collaborators of {@link runReplay}. */
export interface ReplayDeps<T extends IncidentSink> {
  logger: Logger;
  fs: Fs;
  /** Builds the incident side on the replay's clock. */
  createIncidents: (clock: Clock) => Promise<T>;
}

/** What a replay ran through. */
export interface ReplayRun<T extends IncidentSink> {
  incidents: T;
  engine: CollectorEngine;
  messageCount: number;
  nodes: string[];
  /** First and last `sentAtMs` of the stream. */
  firstMs: number;
  lastMs: number;
  evaluations: number;
}

/**
 * Replays the stream: evaluations run on the engine's own timer as the
 * clock reaches each message; a message sent at the very millisecond of an
 * evaluation is applied after it. Ends with the first evaluation after the
 * last message. Buckets are not persisted.
 */
export async function runReplay<T extends IncidentSink>(
  options: ReplayOptions,
  deps: ReplayDeps<T>,
): Promise<ReplayRun<T>> {
  const messages = options.messages
    .map((message, order) => ({ message, order }))
    .sort(
      (a, b) => a.message.sentAtMs - b.message.sentAtMs || a.order - b.order,
    )
    .map((m) => m.message);
  const firstMs = messages[0]?.sentAtMs ?? 0;
  const lastMs = messages[messages.length - 1]?.sentAtMs ?? 0;

  const clock = new ManualClock(firstMs);
  const incidents = await deps.createIncidents(clock);
  const engine = createCollectorEngine(
    {
      slos: options.slos,
      dataDir: null,
      evaluationIntervalMs: options.evaluationIntervalMs,
    },
    { clock, logger: deps.logger, fs: deps.fs, incidents },
  );
  await engine.start();

  for (const message of messages) {
    await clock.advanceTo(message.sentAtMs, engine.settle);
    await engine.apply(message.node, [message]);
  }
  const before = engine.stats().evaluations;
  while (engine.stats().evaluations === before) {
    await clock.advanceTo(clock.nowMs() + 1000, engine.settle);
  }
  await engine.stop();

  return {
    incidents,
    engine,
    messageCount: messages.length,
    nodes: [...new Set(messages.map((m) => m.node))],
    firstMs,
    lastMs,
    evaluations: engine.stats().evaluations,
  };
}
