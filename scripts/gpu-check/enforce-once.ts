/**
 * One enforcement pass of the GPU check (docs/gpu-check.md): the real
 * sampler, the real guard runtime, the real `/proc` identity reader and
 * signaller, on the agent config the check generated.
 *
 * HARM IS SIMULATED. The guard kills only while the protected workload is
 * visibly harmed, and the check has no Ollama whose latency could suffer,
 * so every sample is evaluated with a harm signal saying the latency SLI
 * is breached. Everything else (breach, grace, victim choice, identity
 * re-check, SIGTERM/SIGKILL, release verification) is the agent's code.
 *
 * As a second safety net the signaller given to the guard passes on only
 * signals for the offender's pid; a request for any other pid is refused,
 * recorded, and fails the check.
 *
 *   node --import tsx scripts/gpu-check/enforce-once.ts \
 *     --config FILE --offender PID [--timeout 60s] [--out FILE]
 *
 * Prints the figures for people; `--out` also writes them as JSON. Exit 0
 * when the offender was killed and its VRAM verified free, 1 when not, 2
 * on bad usage or config.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadAgentConfig } from '../../agent/src/config.ts';
import type { AgentConfig } from '../../agent/src/config.ts';
import { readAncestry, readBootId } from '../../agent/src/gpu/proc-identity.ts';
import { createSampler } from '../../agent/src/gpu/sampler.ts';
import type { Sampler } from '../../agent/src/gpu/sampler.ts';
import { NO_HARM_EVIDENCE } from '../../agent/src/guard/harm.ts';
import type { HarmSignals } from '../../agent/src/guard/harm.ts';
import { createIdentityReader } from '../../agent/src/guard/identity-reader.ts';
import { createGuardRuntime } from '../../agent/src/guard/runtime.ts';
import type { GuardRuntime } from '../../agent/src/guard/runtime.ts';
import { createSignaller } from '../../agent/src/guard/signaller.ts';
import type { KillSignal, Signaller } from '../../agent/src/guard/signaller.ts';
import { createSystemClock } from '../../shared/src/clock.ts';
import type { Clock } from '../../shared/src/clock.ts';
import { exitCodeFor } from '../../shared/src/errors.ts';
import { createExec } from '../../shared/src/exec.ts';
import { createNodeFs } from '../../shared/src/fs.ts';
import type { Fs } from '../../shared/src/fs.ts';
import { createLogger } from '../../shared/src/logger.ts';
import type { Logger } from '../../shared/src/logger.ts';
import type { GuardEvent } from '../../shared/src/messages.ts';
import { err } from '../../shared/src/result.ts';
import { parseDuration } from '../../shared/src/units.ts';
import { judgeEnforcement, renderEnforcement } from './enforcement.ts';
import type { EnforcementRun, SignalRequest } from './enforcement.ts';

/** The harm the check simulates: the latency SLI is breached. */
const SIMULATED_HARM: HarmSignals = {
  ...NO_HARM_EVIDENCE,
  latencyBreached: true,
  evidence: ['simulated by the GPU check: latency SLI breached'],
};

interface Io {
  clock: Clock;
  fs: Fs;
  logger: Logger;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      offender: { type: 'string' },
      timeout: { type: 'string', default: '60s' },
      out: { type: 'string' },
    },
  });
  const offenderPid = Number(values.offender);
  if (!values.config || !Number.isInteger(offenderPid) || offenderPid <= 1) {
    process.stderr.write(
      'usage: enforce-once.ts --config FILE --offender PID [--timeout 60s] [--out FILE]\n',
    );
    return 2;
  }
  const fs = createNodeFs();
  const config = await loadAgentConfig(values.config, fs);
  const logger = createLogger({
    level: 'info',
    destination: pino.destination({
      dest: path.join(config.stateDir, 'agent.log'),
      mkdir: true,
      sync: true,
    }),
  });
  const io: Io = { clock: createSystemClock(), fs, logger };

  const timeoutMs = parseDuration(values.timeout) ?? 60_000;
  const run = await enforce(config, offenderPid, timeoutMs, io);
  const verdict = judgeEnforcement(run);
  process.stdout.write(renderEnforcement(run, verdict));
  if (values.out) {
    await fs.writeFileAtomic(
      values.out,
      JSON.stringify({ ...run, verdict }, null, 2),
    );
  }
  if (!verdict.passed) process.stderr.write(`${verdict.reason}\n`);
  return verdict.passed ? 0 : 1;
}

/** Samples and evaluates until the guard has acted on a plan, or timeout. */
async function enforce(
  config: AgentConfig,
  offenderPid: number,
  timeoutMs: number,
  io: Io,
): Promise<EnforcementRun> {
  const { clock } = io;
  const sampler = createSampler(
    {
      node: config.node,
      source: config.sampling.source,
      intervalMs: config.sampling.intervalMs,
      nvmlLibraryPath: config.sampling.nvmlLibraryPath,
      nvidiaSmiPath: config.sampling.nvidiaSmiPath,
      smiTimeoutMs: config.sampling.smiTimeoutMs,
    },
    { ...io, exec: createExec() },
  );
  const requests: SignalRequest[] = [];
  const events: GuardEvent[] = [];
  const runtime = await createRuntime(config, sampler, io, {
    signal: guardedSignaller(offenderPid, requests, clock),
    emit: (e) => events.push(e),
  });

  const startedAtMs = clock.nowMs();
  const deadlineMs = clock.monotonicMs() + timeoutMs;
  try {
    while (clock.monotonicMs() < deadlineMs) {
      await runtime.onSample(await sampler.sampleOnce(), SIMULATED_HARM);
      await runtime.whenIdle();
      if (events.some((e) => isFinal(e.kind))) break;
      await clock.sleep(sampler.intervalMs());
    }
    return {
      offenderPid,
      startedAtMs,
      hardGraceMs: config.guard.hardGraceMs,
      intervalMs: sampler.intervalMs(),
      releaseRatio: config.guard.releaseRatio,
      events,
      requests,
      after: await sampler.sampleOnce(),
    };
  } finally {
    await sampler.close();
  }
}

/** Events after which this pass has nothing more to wait for. */
function isFinal(kind: string): boolean {
  return ['freed', 'abort', 'infeasible', 'breaker'].includes(kind);
}

async function createRuntime(
  config: AgentConfig,
  sampler: Sampler,
  io: Io,
  ports: { signal: Signaller; emit: (event: GuardEvent) => void },
): Promise<GuardRuntime> {
  const fs = io.fs;
  return createGuardRuntime(config.guard, {
    node: config.node,
    self: { pid: process.pid, ppid: process.ppid },
    bootId: await readBootId({ fs }),
    sample: () => sampler.sampleOnce(),
    readIdentity: createIdentityReader({ fs }),
    readAncestry: (pid) => readAncestry(pid, { fs }),
    signal: ports.signal,
    clock: io.clock,
    logger: io.logger,
    fs,
    emit: ports.emit,
    auditFile: path.resolve(config.stateDir, config.guard.auditFile),
  });
}

/**
 * The real signaller, passing on only signals for the offender; every
 * request is recorded with the time it was made.
 */
function guardedSignaller(
  offenderPid: number,
  requests: SignalRequest[],
  clock: Clock,
): Signaller {
  const real = createSignaller({
    selfPid: process.pid,
    parentPid: process.ppid,
  });
  return (pid: number, signal: KillSignal) => {
    const allowed = pid === offenderPid;
    requests.push({ pid, signal, atMs: clock.nowMs(), allowed });
    if (!allowed) {
      return err(`the GPU check signals only the offender ${offenderPid}`);
    }
    return real(pid, signal);
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `enforce-once: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(exitCodeFor(error));
  },
);
