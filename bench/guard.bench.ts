/**
 * Guard reaction time, on a real clock: an offender (a real child process)
 * appears in the fake GPU's state while the reserved model is harmed; how
 * long until its SIGTERM, and until its VRAM is verified free. The bound is
 * the hard grace plus one sample interval. Run with the default grace
 * (10 s) and NVML interval (1 s), then with both scaled down by 10.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSystemClock } from '../shared/src/clock.ts';
import { ConfigNode } from '../shared/src/config.ts';
import { createNodeFs } from '../shared/src/fs.ts';
import { createSilentLogger } from '../shared/src/logger.ts';
import type { GuardEvent } from '../shared/src/messages.ts';
import { parseGuardConfig } from '../agent/src/guard/guard-config.ts';
import { NO_HARM_EVIDENCE } from '../agent/src/guard/harm.ts';
import { readBootId } from '../agent/src/gpu/proc-identity.ts';
import { createIdentityReader } from '../agent/src/guard/identity-reader.ts';
import { createSignaller } from '../agent/src/guard/signaller.ts';
import { createGuardRuntime } from '../agent/src/guard/runtime.ts';
import { jasperState, writeGpuState } from '../test/fakes/gpu-state.ts';
import { fakeGpuSampler } from '../test/agent/guard/fake-gpu-sampler.ts';

const HARMED = { ...NO_HARM_EVIDENCE, modelNotResidentWhileRequestsWait: true };

interface Timing {
  graceMs: number;
  intervalMs: number;
  toSignalMs: number | null;
  toFreedMs: number | null;
}

async function measure(graceMs: number, intervalMs: number): Promise<Timing> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gpuwarden-bench-'));
  const stateFile = path.join(dir, 'gpu-state');
  writeGpuState(stateFile, jasperState());
  const fs = createNodeFs();
  const bootId = await readBootId({ fs });
  const config = parseGuardConfig(
    new ConfigNode(
      {
        mode: 'enforce',
        reservations: [{ gpu: 0, reserve: '21.5GiB' }],
        eligible: { users: [os.userInfo().username] },
        grace: { hard: `${graceMs}ms` },
        auditFile: path.join(dir, 'audit.jsonl'),
      },
      'guard',
    ),
  );
  const events: GuardEvent[] = [];
  const sample = fakeGpuSampler(stateFile);
  const clock = createSystemClock();
  const runtime = createGuardRuntime(config, {
    node: 'bench',
    self: { pid: process.pid, ppid: process.ppid },
    bootId,
    sample,
    readIdentity: createIdentityReader({ fs }),
    signal: createSignaller({ selfPid: process.pid, parentPid: process.ppid }),
    clock,
    logger: createSilentLogger(),
    fs,
    emit: (e) => events.push(e),
    auditFile: null,
  });
  const stop = clock.setInterval(() => {
    void sample().then((s) => runtime.onSample(s, HARMED));
  }, intervalMs);

  // Appear at an arbitrary phase of the sampling interval.
  await clock.sleep(intervalMs * 1.3);
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const state = jasperState();
  state.processes = [
    {
      gpu: 0,
      pid: child.pid ?? -1,
      type: 'compute',
      usedBytes: 3 * 2 ** 30,
      name: 'code-tunnel',
    },
  ];
  writeGpuState(stateFile, state);
  const appearedMs = clock.nowMs();

  const deadlineMs = appearedMs + graceMs + 4 * intervalMs + 10_000;
  while (
    !events.some((e) => e.kind === 'freed') &&
    clock.nowMs() < deadlineMs
  ) {
    await clock.sleep(20);
  }
  stop();
  await runtime.whenIdle();
  if (child.exitCode === null && child.signalCode === null)
    child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });

  const at = (kind: string) =>
    events.find((e) => e.kind === kind)?.atMs ?? null;
  const since = (ms: number | null) => (ms === null ? null : ms - appearedMs);
  return {
    graceMs,
    intervalMs,
    toSignalMs: since(at('signal')),
    toFreedMs: since(at('freed')),
  };
}

function report(t: Timing, label: string): void {
  const boundMs = t.graceMs + t.intervalMs;
  const ok = t.toSignalMs !== null && t.toSignalMs <= boundMs;
  console.log(
    `${label}: grace ${t.graceMs} ms, sample every ${t.intervalMs} ms -> SIGTERM after ${t.toSignalMs ?? 'never'} ms, VRAM verified free after ${t.toFreedMs ?? 'never'} ms (bound for SIGTERM ${boundMs} ms: ${ok ? 'met' : 'MISSED'})`,
  );
}

/** Prints the reaction times. */
export default async function bench(): Promise<void> {
  report(await measure(10_000, 1000), 'default grace');
  report(await measure(1000, 100), 'scaled down x10');
}
