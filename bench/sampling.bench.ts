/**
 * Sampling cost: agent-side CPU per snapshot (source read + /proc
 * enrichment + snapshot assembly) for 1 GPU × 4 processes and 8 GPUs × 16
 * processes, through the fake libnvidia-ml.so.1 and the fake nvidia-smi,
 * then RSS over 600 back-to-back samples (10 minutes of 1 Hz sampling,
 * simulated quickly), and a comparison with gpustat where it can run.
 * The GPU processes are real sleeping children, so /proc has real work.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProcReader } from '../agent/src/gpu/proc-reader.ts';
import { createSampler } from '../agent/src/gpu/sampler.ts';
import type { Sampler } from '../agent/src/gpu/sampler.ts';
import type { SourceChoice } from '../agent/src/gpu/sampling-config.ts';
import { createSystemClock } from '../shared/src/clock.ts';
import { createExec } from '../shared/src/exec.ts';
import { createNodeFs } from '../shared/src/fs.ts';
import { createSilentLogger } from '../shared/src/logger.ts';
import { buildFakeNvml } from '../test/fakes/build-fake-nvml.ts';
import { jasperState, writeGpuState } from '../test/fakes/gpu-state.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const FAKE_SMI = path.join(root, 'test/fakes/nvidia-smi/nvidia-smi');
const NVML_TARGET_US = 1000;
const SMI_TARGET_US = 10_000;
const MIB = 2 ** 20;

interface Shape {
  label: string;
  gpus: number;
  perGpu: number;
  stateFile: string;
}

/** Runs the sampling benchmark and prints its figures. */
export default async function samplingBench(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gpuwarden-bench-'));
  const children = spawnSleepers(128);
  try {
    const shapes = [
      makeShape(dir, '1x4', 1, 4, children, true),
      makeShape(dir, '8x16, 16 pids', 8, 16, children, false),
      makeShape(dir, '8x16, 128 pids', 8, 16, children, true),
    ];
    const nvmlLib = await nvmlLibrary();
    const nvmlBigUs = await printCpuTable(shapes, nvmlLib);
    await printProcCost(children);
    await printRssLoop(shapes[2]!, nvmlLib);
    printGpustat(shapes[2]!, nvmlLib, nvmlBigUs);
  } finally {
    for (const child of children) {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnSleepers(count: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn('sleep', ['600'], { stdio: 'ignore' }),
  );
}

function makeShape(
  dir: string,
  label: string,
  gpus: number,
  perGpu: number,
  children: ChildProcess[],
  distinct: boolean,
): Shape {
  const state = jasperState();
  const template = state.gpus[0]!;
  state.gpus = Array.from({ length: gpus }, (_, index) => ({
    ...template,
    index,
    uuid: `GPU-00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    pciBusId: `00000000:${String(index + 1).padStart(2, '0')}:00.0`,
  }));
  state.processes = state.gpus.flatMap((gpu) =>
    Array.from({ length: perGpu }, (_, i) => ({
      gpu: gpu.index,
      // distinct: every row its own process; else each process on all GPUs.
      pid: children[distinct ? gpu.index * perGpu + i : i]?.pid ?? 1,
      type: 'compute' as const,
      usedBytes: (100 + i) * MIB,
      name: `python3 worker-${i}`,
    })),
  );
  const stateFile = path.join(dir, `state-${gpus}x${perGpu}-${distinct}`);
  writeGpuState(stateFile, state);
  return { label, gpus, perGpu, stateFile };
}

/** The fake library, or `null` (and why) when the NVML source is absent. */
async function nvmlLibrary(): Promise<string | null> {
  const source = path.join(root, 'agent/src/gpu/nvml-source.ts');
  if (!existsSync(source)) {
    console.log('NVML rows skipped: agent/src/gpu/nvml-source.ts is absent');
    return null;
  }
  return buildFakeNvml();
}

function makeSampler(source: SourceChoice, nvmlLib: string | null): Sampler {
  return createSampler(
    {
      node: 'bench',
      source,
      nvidiaSmiPath: FAKE_SMI,
      nvmlLibraryPath: nvmlLib ?? 'libnvidia-ml.so.1',
    },
    {
      clock: createSystemClock(),
      logger: createSilentLogger(),
      exec: createExec(),
      fs: createNodeFs(),
    },
  );
}

interface Measured {
  cpuUs: number;
  wallMs: number;
  childCpuMs: number | null;
}

/** Mean agent CPU (user + system) and wall time per snapshot. */
async function measure(
  sampler: Sampler,
  iterations: number,
  warmup: number,
): Promise<Measured> {
  for (let i = 0; i < warmup; i += 1) await sampler.sampleOnce();
  const childBefore = childCpuTicks();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) await sampler.sampleOnce();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const childTicks = childCpuTicks();
  return {
    cpuUs: (used.user + used.system) / iterations,
    wallMs: wallMs / iterations,
    childCpuMs:
      childBefore === null || childTicks === null
        ? null
        : ((childTicks - childBefore) * 10) / iterations,
  };
}

/** cutime + cstime of this process (reaped children), in 10 ms ticks. */
function childCpuTicks(): number | null {
  try {
    const text = readFileSync('/proc/self/stat', 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(rest[13]) + Number(rest[14]);
  } catch {
    return null;
  }
}

/** Prints the CPU table; returns the NVML CPU of the last shape, in us. */
async function printCpuTable(
  shapes: Shape[],
  nvmlLib: string | null,
): Promise<number | null> {
  let nvmlUs: number | null = null;
  console.log(
    '\nagent CPU per snapshot (source read + /proc + assembly), measured vs target',
  );
  console.log(
    'GPUs x procs    source      CPU/snapshot   target              wall/snapshot  child CPU',
  );
  for (const shape of shapes) {
    process.env.GPUWARDEN_FAKE_GPU_STATE = shape.stateFile;
    if (nvmlLib) {
      const sampler = makeSampler('nvml', nvmlLib);
      const m = await measure(sampler, 2000, 200);
      await sampler.close();
      printRow(shape, 'nvml', m, NVML_TARGET_US);
      nvmlUs = m.cpuUs;
    }
    const smi = makeSampler('nvidia-smi', nvmlLib);
    const m = await measure(smi, 40, 5);
    await smi.close();
    printRow(shape, 'nvidia-smi', m, SMI_TARGET_US);
  }
  console.log(
    '(nvml CPU includes the fake C library, which stats its state file on every call; nvidia-smi child CPU is the fake program, a Node script, not the real one)',
  );
  return nvmlUs;
}

function printRow(shape: Shape, source: string, m: Measured, target: number) {
  const verdict = m.cpuUs <= target ? 'ok' : 'OVER';
  const child = m.childCpuMs === null ? 'n/a' : `${m.childCpuMs.toFixed(1)} ms`;
  console.log(
    [
      shape.label.padEnd(15),
      source.padEnd(11),
      `${m.cpuUs.toFixed(0).padStart(7)} us`.padEnd(14),
      `<= ${target} us ${verdict}`.padEnd(19),
      `${m.wallMs.toFixed(2)} ms`.padEnd(14),
      child,
    ].join(' '),
  );
}

async function printProcCost(children: ChildProcess[]) {
  const pids = children.map((c) => c.pid ?? 1);
  const deps = { fs: createNodeFs(), clock: createSystemClock() };
  const warm = createProcReader({}, deps);
  const rounds = 200;
  const time = async (fn: () => Promise<unknown>) => {
    await fn();
    const cpu = process.cpuUsage();
    for (let i = 0; i < rounds; i += 1) await fn();
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / rounds;
  };

  const coldUs = await time(() => createProcReader({}, deps).read(pids));
  const warmUs = await time(() => warm.read(pids));
  console.log(
    `\n/proc enrichment of ${pids.length} pids: ${coldUs.toFixed(0)} us cold (every file and the exe link), ${warmUs.toFixed(0)} us warm (stat only; metadata cached by pid + start time)`,
  );
}

async function printRssLoop(shape: Shape, nvmlLib: string | null) {
  const source: SourceChoice = nvmlLib ? 'nvml' : 'nvidia-smi';
  process.env.GPUWARDEN_FAKE_GPU_STATE = shape.stateFile;
  const sampler = makeSampler(source, nvmlLib);
  const samples = 600;
  await sampler.sampleOnce();
  const before = process.memoryUsage();
  const quarter: number[] = [];
  for (let i = 1; i <= samples; i += 1) {
    await sampler.sampleOnce();
    if (i % (samples / 4) === 0) quarter.push(process.memoryUsage().rss);
  }
  const after = process.memoryUsage();
  await sampler.close();
  const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
  const peak = Math.max(before.rss, ...quarter);
  console.log(
    `\nRSS over ${samples} back-to-back ${source} samples of ${shape.label} (10 min at 1 Hz): ${mib(before.rss)} -> ${quarter.map(mib).join(' -> ')}; end - start ${mib(after.rss - before.rss)}, peak - start ${mib(peak - before.rss)}; heap used ${mib(before.heapUsed)} -> ${mib(after.heapUsed)}`,
  );
}

function printGpustat(
  shape: Shape,
  nvmlLib: string | null,
  oursUs: number | null,
) {
  const found = spawnSync('sh', ['-c', 'command -v gpustat'], {
    encoding: 'utf8',
  });
  const gpustat = found.stdout.trim();
  if (!gpustat || !nvmlLib || oursUs === null) {
    console.log(
      `\ngpustat comparison: not run: ${!gpustat ? 'gpustat is not installed (Debian ships it in contrib with python3-pynvml, which this host does not have enabled; PyPI is not reachable from here)' : 'the NVML source is absent'}`,
    );
    return;
  }
  const env = {
    ...process.env,
    GPUWARDEN_FAKE_GPU_STATE: shape.stateFile,
    LD_LIBRARY_PATH: path.dirname(nvmlLib),
  };
  const runs = 10;
  const before = childCpuTicks() ?? 0;
  for (let i = 0; i < runs; i += 1) {
    execFileSync(gpustat, ['--json'], { env, stdio: 'ignore' });
  }
  const perRunMs = (((childCpuTicks() ?? 0) - before) * 10) / runs;
  const ratio = perRunMs > 0 ? (oursUs / 1000 / perRunMs).toFixed(4) : 'n/a';
  console.log(
    `\ngpustat --json through the same fake library: ${perRunMs.toFixed(1)} ms CPU per snapshot (whole process); ours ${(oursUs / 1000).toFixed(3)} ms, ratio ours/gpustat ${ratio}`,
  );
}
