/**
 * A simulated GPU host for guard tests: one GPU, a process table whose
 * processes die (and free their VRAM) when signalled, unless a test makes
 * them ignore SIGTERM, survive SIGKILL or keep their memory. Sizes in MiB
 * as research/enforcement.md §9 writes them.
 */
import { ConfigNode } from '../../../shared/src/config.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type {
  GpuProcess,
  GpuProcessType,
  Snapshot,
} from '../../../shared/src/snapshot.ts';
import { parseGuardConfig } from '../../../agent/src/guard/guard-config.ts';
import type { GuardConfig } from '../../../agent/src/guard/guard-config.ts';
import { NO_HARM_EVIDENCE } from '../../../agent/src/guard/harm.ts';
import type { HarmSignals } from '../../../agent/src/guard/harm.ts';
import type { KillSignal } from '../../../agent/src/guard/signaller.ts';
import type { ProcessIdentity } from '../../../agent/src/guard/types.ts';

export const MIB = 2 ** 20;
export const GPU_UUID = 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a';
export const BOOT_ID = '6c1f1a52-8d55-4a53-9d0e-3f2b3c4d5e6f';

/** H1: the model is not resident while requests wait. */
export const H1: HarmSignals = {
  ...NO_HARM_EVIDENCE,
  modelNotResidentWhileRequestsWait: true,
  evidence: ['3 requests queued'],
};

/** H2: the model is partly on the CPU. */
export const H2: HarmSignals = { ...NO_HARM_EVIDENCE, modelPartlyOnCpu: true };

/** The §9 common setup as a guard config, with overrides merged on top. */
export function caseConfig(
  overrides: Record<string, unknown> = {},
): GuardConfig {
  return parseGuardConfig(
    new ConfigNode(
      {
        mode: 'enforce',
        reservations: [{ gpu: 0, reserve: '20480MiB', model: 'qwen2.5:32b' }],
        eligible: { users: ['dev', 'alice', 'bob'] },
        kill: { termGrace: '10s', killGrace: '5s', pollInterval: '250ms' },
        ...overrides,
      },
      'guard',
    ),
  );
}

/** A process row for the fake host. */
export interface FakeProc {
  pid: number;
  user: string;
  mib: number | null;
  name: string;
  type?: GpuProcessType;
  unit?: string | null;
  exe?: string | null;
  cgroup?: string | null;
  command?: string | null;
  ppid?: number;
  startTicks?: number;
  oomScoreAdj?: number | null;
  container?: string | null;
  /** Ignores SIGTERM. */
  ignoresTerm?: boolean;
  /** Survives SIGKILL too (stuck in D state). */
  unkillable?: boolean;
  /** Its VRAM stays allocated after it dies. */
  keepsMemory?: boolean;
}

const UIDS: Record<string, number> = {
  root: 0,
  ollama: 997,
  dev: 1000,
  alice: 1001,
  bob: 1002,
  carol: 1003,
};

/** An Ollama runner in ollama.service. */
export function ollamaRunner(pid: number, mib: number): FakeProc {
  return {
    pid,
    user: 'ollama',
    mib,
    name: 'llama-server',
    exe: '/usr/local/lib/ollama/llama-server',
    unit: 'ollama.service',
    cgroup: '/system.slice/ollama.service',
  };
}

/** Xorg on the GPU. */
export function xorg(mib = 312): FakeProc {
  return {
    pid: 1420,
    user: 'root',
    mib,
    name: 'Xorg',
    type: 'graphics',
    exe: '/usr/lib/xorg/Xorg',
  };
}

/** gnome-shell of `dev`. */
export function gnomeShell(mib = 98): FakeProc {
  return {
    pid: 2113,
    user: 'dev',
    mib,
    name: 'gnome-shell',
    type: 'graphics',
    exe: '/usr/bin/gnome-shell',
  };
}

/** The tunnel's Python child of the incident (TC2). */
export function tunnelChild(pid = 77310, startTicks = 991204): FakeProc {
  return {
    pid,
    user: 'dev',
    mib: 3072,
    name: 'python3',
    exe: '/usr/bin/python3.12',
    unit: 'code-tunnel.service',
    cgroup:
      '/user.slice/user-1000.slice/user@1000.service/app.slice/code-tunnel.service',
    command: 'python3 -m ipykernel_launcher -f kernel.json',
    startTicks,
  };
}

/** One simulated GPU host. */
export class FakeHost {
  readonly procs = new Map<number, FakeProc & { alive: boolean }>();
  readonly signals: { pid: number; signal: KillSignal }[] = [];
  /** Bytes held by nobody the process list names. */
  unattributedMib: number;
  /** Free memory the driver cannot tell (WDDM / lost GPU). */
  freeUnknown = false;

  constructor(
    procs: FakeProc[],
    options: { unattributedMib?: number; totalMib?: number } = {},
    private readonly now: () => number = () => Date.now(),
  ) {
    this.unattributedMib = options.unattributedMib ?? 0;
    this.totalMib = options.totalMib ?? 24564;
    for (const p of procs) this.add(p);
  }

  readonly totalMib: number;

  add(p: FakeProc): void {
    this.procs.set(p.pid, { ...p, alive: true });
  }

  remove(pid: number): void {
    this.procs.delete(pid);
  }

  /** The snapshot at `nowMs` (default the host's clock). */
  snapshot(nowMs = this.now()): Snapshot {
    const listed = [...this.procs.values()].filter(
      (p) => p.alive || p.keepsMemory,
    );
    const usedMib =
      this.unattributedMib +
      listed.reduce((sum, p) => sum + (p.alive ? (p.mib ?? 0) : 0), 0) +
      [...this.procs.values()]
        .filter((p) => !p.alive && p.keepsMemory)
        .reduce((sum, p) => sum + (p.mib ?? 0), 0);
    return {
      node: 'jasper',
      takenAt: new Date(nowMs).toISOString(),
      source: 'nvml',
      driverVersion: '550.54.14',
      gpus: [
        {
          index: 0,
          uuid: GPU_UUID,
          name: 'NVIDIA GeForce RTX 4090',
          pciBusId: '00000000:01:00.0',
          memory: {
            totalBytes: this.totalMib * MIB,
            usedBytes: usedMib * MIB,
            freeBytes: this.freeUnknown
              ? null
              : (this.totalMib - usedMib) * MIB,
            reservedBytes: 0,
          },
          utilizationPercent: { gpu: 50, memory: 30 },
          temperatureC: 60,
          powerWatts: 200,
          migEnabled: null,
          processes: listed.filter((p) => p.alive).map(toGpuProcess),
        },
      ],
      problems: [],
    };
  }

  sample = async (): Promise<Snapshot> => this.snapshot();

  readIdentity = async (pid: number): Promise<ProcessIdentity | null> => {
    const p = this.procs.get(pid);
    if (!p?.alive) return null;
    return { pid, startTimeTicks: p.startTicks ?? pid * 10, bootId: BOOT_ID };
  };

  signal = (pid: number, signal: KillSignal): Result<void, string> => {
    const p = this.procs.get(pid);
    if (!p?.alive) return err(`${signal} to pid ${pid} failed: ESRCH`);
    this.signals.push({ pid, signal });
    const dies =
      signal === 'SIGTERM' ? !p.ignoresTerm && !p.unkillable : !p.unkillable;
    if (dies) p.alive = false;
    return ok(undefined);
  };

  isAlive(pid: number): boolean {
    return this.procs.get(pid)?.alive ?? false;
  }
}

function toGpuProcess(p: FakeProc): GpuProcess {
  return {
    pid: p.pid,
    name: p.name,
    type: p.type ?? 'compute',
    usedBytes: p.mib === null ? null : p.mib * MIB,
    user: p.user,
    command: p.command ?? p.name,
    startedAt: null,
    uid: UIDS[p.user] ?? 1100,
    ppid: p.ppid ?? 1,
    unit: p.unit ?? null,
    cgroup: p.cgroup ?? null,
    container: p.container ?? null,
    state: 'S',
    startTimeTicks: p.startTicks ?? p.pid * 10,
    exe: p.exe ?? `/usr/bin/${p.name}`,
    oomScoreAdj: p.oomScoreAdj ?? 0,
    resolved: true,
  };
}
