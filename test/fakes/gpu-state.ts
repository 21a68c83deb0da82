/**
 * The fake GPU's state file, shared by the fake nvidia-smi, the fake
 * libnvidia-ml.so.1 (C), the fake Ollama server, the demo and the tests.
 *
 * Format: one record per line, `kind key=value key=value ...`, values
 * percent-encoded (so names may hold spaces or bytes that are not UTF-8).
 * Lines starting with `#` are comments. Records:
 *
 *   driver version=550.54.14 cuda=12.4
 *   init error=NVML_ERROR_DRIVER_NOT_LOADED          (nvmlInit fails)
 *   gpu index=0 uuid=GPU-.. name=NVIDIA%20GeForce%20RTX%204090
 *       pci=00000000:01:00.0 total=BYTES reserved=BYTES baseline=BYTES
 *       util=35 memutil=20 temp=61 powermw=285000 mig=0|1|na lost=0|1
 *   proc gpu=0 pid=1234 type=compute|graphics|both used=BYTES|unknown
 *       name=%2Fusr%2Fbin%2Fcode-tunnel [gi=2 ci=0] [hostpid=1]
 *   mig gpu=0 index=0 uuid=MIG-.. name=.. gi=2 ci=0 total=BYTES baseline=BYTES
 *   fail gpu=0 call=nvmlDeviceGetPowerUsage error=NVML_ERROR_NOT_SUPPORTED
 *   slow gpu=0 call=nvmlDeviceGetPowerUsage ms=800   (a call that hangs)
 *   trap stride=16|24|32 sentinel=0|1
 *
 * Optional keys and records (absent means the default):
 *   - `proc gi= ci=` (default none, i.e. 0xFFFFFFFF): the process runs in
 *     that MIG GPU instance / compute instance of its GPU.
 *   - `proc hostpid=1`: the pid lives in another PID namespace (the host's,
 *     seen from a container): the fake NVML lists it without checking
 *     /proc, as the real driver does.
 *   - `mig` records: MIG devices of a GPU whose `mig=1`; a MIG device's
 *     processes are its GPU's processes with the same `gi` (memory belongs
 *     to the GPU instance). Parent handles of a `mig=1` GPU answer memory
 *     and process queries with NVML_ERROR_NO_PERMISSION (the unprivileged
 *     view) and utilization with NVML_ERROR_NOT_SUPPORTED.
 *
 * Fake NVML semantics: `fail call=` names a symbol; a name without a
 * `_vN` suffix also fails every versioned variant of it. `lost=1` makes
 * nvmlDeviceGetHandleByIndex and every call on the device return
 * NVML_ERROR_GPU_IS_LOST. `trap stride=` is the entry size written by the
 * `..RunningProcesses_v3` calls (32 is the 535.43-535.86 layout, 24 the
 * current one, 16 the legacy one; any other value is an unknown layout);
 * `_v2` always writes 24 bytes and the unversioned call 16. `sentinel=1`
 * reports every usedGpuMemory as 0xFFFFFFFFFFFFFFFF (as under WDDM). With
 * no state file, nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED.
 *
 * A process whose pid is gone (or a zombie) holds no memory: readers drop
 * it, so killing a registered process really frees its VRAM. A GPU's used
 * memory is its baseline plus what its live processes hold.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface FakeProcess {
  gpu: number;
  pid: number;
  type: 'compute' | 'graphics' | 'both';
  /** Bytes, or null for "unknown" (WDDM-style). */
  usedBytes: number | null;
  name: string;
  /** MIG GPU instance id; absent when the process is not in a MIG slice. */
  gi?: number;
  /** MIG compute instance id; absent when not in a MIG slice. */
  ci?: number;
  /** True when the pid is in another PID namespace (always "alive"). */
  hostPid?: boolean;
}

/** A MIG device of a GPU whose `mig` is '1'. */
export interface FakeMigDevice {
  gpu: number;
  index: number;
  uuid: string;
  name: string;
  gi: number;
  ci: number;
  totalBytes: number;
  baselineBytes: number;
}

export interface FakeGpu {
  index: number;
  uuid: string;
  name: string;
  pciBusId: string;
  totalBytes: number;
  reservedBytes: number;
  baselineBytes: number;
  utilGpu: number;
  utilMemory: number;
  temperatureC: number;
  powerMw: number;
  mig: '0' | '1' | 'na';
  lost: boolean;
  /**
   * Optional: the name as percent-encoded bytes, written instead of `name`
   * (for names that are not valid UTF-8, e.g. `%F8%A0NVIDIA`). The parser
   * sets it, and `name` to a lenient decoding, when a name is not UTF-8.
   */
  nameEncoded?: string;
}

export interface FakeFailure {
  gpu: number;
  call: string;
  error: string;
}

/** A call of the fake NVML that answers only after `delayMs` (a hang). */
export interface FakeSlowCall {
  gpu: number;
  call: string;
  delayMs: number;
}

export interface FakeGpuState {
  driverVersion: string;
  cudaVersion: string;
  initError: string | null;
  gpus: FakeGpu[];
  processes: FakeProcess[];
  failures: FakeFailure[];
  /** Entry size of the `_v3` process calls (16, 24 or 32; others: unknown). */
  trap: { stride: number; sentinel: boolean };
  /** MIG devices (optional; none when absent). */
  migDevices?: FakeMigDevice[];
  /** Fake NVML calls that hang for a while (optional; none when absent). */
  slowCalls?: FakeSlowCall[];
}

/** The simulated Jasper: an RTX 4090 with 24 GiB and nothing running. */
export function jasperState(): FakeGpuState {
  return {
    driverVersion: '550.54.14',
    cudaVersion: '12.4',
    initError: null,
    gpus: [
      {
        index: 0,
        uuid: 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a',
        name: 'NVIDIA GeForce RTX 4090',
        pciBusId: '00000000:01:00.0',
        totalBytes: 24 * 2 ** 30,
        reservedBytes: 0,
        baselineBytes: 0,
        utilGpu: 0,
        utilMemory: 0,
        temperatureC: 45,
        powerMw: 30_000,
        mig: 'na',
        lost: false,
      },
    ],
    processes: [],
    failures: [],
    trap: { stride: 32, sentinel: false },
  };
}

const enc = (value: string | number): string =>
  encodeURIComponent(String(value));

/** Renders a state as the file's text. */
export function formatGpuState(state: FakeGpuState): string {
  const lines = ['# gpuwarden fake GPU state v1'];
  lines.push(
    `driver version=${enc(state.driverVersion)} cuda=${enc(state.cudaVersion)}`,
  );
  if (state.initError) lines.push(`init error=${enc(state.initError)}`);
  for (const g of state.gpus) {
    lines.push(
      [
        'gpu',
        `index=${g.index}`,
        `uuid=${enc(g.uuid)}`,
        `name=${g.nameEncoded ?? enc(g.name)}`,
        `pci=${enc(g.pciBusId)}`,
        `total=${g.totalBytes}`,
        `reserved=${g.reservedBytes}`,
        `baseline=${g.baselineBytes}`,
        `util=${g.utilGpu}`,
        `memutil=${g.utilMemory}`,
        `temp=${g.temperatureC}`,
        `powermw=${g.powerMw}`,
        `mig=${g.mig}`,
        `lost=${g.lost ? 1 : 0}`,
      ].join(' '),
    );
  }
  for (const m of state.migDevices ?? []) {
    lines.push(
      `mig gpu=${m.gpu} index=${m.index} uuid=${enc(m.uuid)} name=${enc(m.name)} gi=${m.gi} ci=${m.ci} total=${m.totalBytes} baseline=${m.baselineBytes}`,
    );
  }
  for (const p of state.processes) {
    const used = p.usedBytes === null ? 'unknown' : String(p.usedBytes);
    const mig = p.gi === undefined ? '' : ` gi=${p.gi} ci=${p.ci ?? 0}`;
    const host = p.hostPid ? ' hostpid=1' : '';
    lines.push(
      `proc gpu=${p.gpu} pid=${p.pid} type=${p.type} used=${used} name=${enc(p.name)}${mig}${host}`,
    );
  }
  for (const f of state.failures) {
    lines.push(`fail gpu=${f.gpu} call=${enc(f.call)} error=${enc(f.error)}`);
  }
  for (const c of state.slowCalls ?? []) {
    lines.push(`slow gpu=${c.gpu} call=${enc(c.call)} ms=${c.delayMs}`);
  }
  lines.push(
    `trap stride=${state.trap.stride} sentinel=${state.trap.sentinel ? 1 : 0}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Parses the file's text; throws on a malformed line (it is test data). */
export function parseGpuState(text: string): FakeGpuState {
  const state: FakeGpuState = { ...jasperState(), gpus: [], processes: [] };
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [kind, ...pairs] = line.trim().split(/\s+/);
    const f = Object.fromEntries(
      pairs.map((pair) => {
        const at = pair.indexOf('=');
        return [pair.slice(0, at), decodeLeniently(pair.slice(at + 1))];
      }),
    );
    applyRecord(state, kind ?? '', f);
    const rawName = /(?:^|\s)name=(\S*)/.exec(line)?.[1];
    const gpu = state.gpus.at(-1);
    if (kind === 'gpu' && gpu && rawName && !isUtf8Encoded(rawName)) {
      gpu.nameEncoded = rawName;
    }
  }
  return state;
}

/** Percent-decodes bytes as UTF-8, invalid sequences as U+FFFD. */
function decodeLeniently(value: string): string {
  if (isUtf8Encoded(value)) return decodeURIComponent(value);
  const bytes = value.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function isUtf8Encoded(value: string): boolean {
  try {
    decodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

function applyRecord(
  state: FakeGpuState,
  kind: string,
  f: Record<string, string>,
): void {
  const num = (key: string): number => Number(f[key] ?? 0);
  if (kind === 'driver') {
    state.driverVersion = f.version ?? '';
    state.cudaVersion = f.cuda ?? '';
  } else if (kind === 'init') {
    state.initError = f.error ?? null;
  } else if (kind === 'gpu') {
    state.gpus.push({
      index: num('index'),
      uuid: f.uuid ?? '',
      name: f.name ?? '',
      pciBusId: f.pci ?? '',
      totalBytes: num('total'),
      reservedBytes: num('reserved'),
      baselineBytes: num('baseline'),
      utilGpu: num('util'),
      utilMemory: num('memutil'),
      temperatureC: num('temp'),
      powerMw: num('powermw'),
      mig: (f.mig ?? 'na') as FakeGpu['mig'],
      lost: f.lost === '1',
    });
  } else if (kind === 'proc') {
    state.processes.push({
      gpu: num('gpu'),
      pid: num('pid'),
      type: (f.type ?? 'compute') as FakeProcess['type'],
      usedBytes: f.used === 'unknown' ? null : num('used'),
      name: f.name ?? '',
      ...(f.gi === undefined ? {} : { gi: num('gi'), ci: num('ci') }),
      ...(f.hostpid === '1' ? { hostPid: true } : {}),
    });
  } else if (kind === 'mig') {
    state.migDevices = [
      ...(state.migDevices ?? []),
      {
        gpu: num('gpu'),
        index: num('index'),
        uuid: f.uuid ?? '',
        name: f.name ?? '',
        gi: num('gi'),
        ci: num('ci'),
        totalBytes: num('total'),
        baselineBytes: num('baseline'),
      },
    ];
  } else if (kind === 'fail') {
    state.failures.push({
      gpu: num('gpu'),
      call: f.call ?? '',
      error: f.error ?? '',
    });
  } else if (kind === 'slow') {
    state.slowCalls = [
      ...(state.slowCalls ?? []),
      { gpu: num('gpu'), call: f.call ?? '', delayMs: num('ms') },
    ];
  } else if (kind === 'trap') {
    state.trap = {
      stride: f.stride === undefined ? 32 : num('stride'),
      sentinel: f.sentinel === '1',
    };
  } else {
    throw new Error(`fake GPU state: unknown record "${kind}"`);
  }
}

/** Reads a state file. */
export function readGpuState(file: string): FakeGpuState {
  return parseGpuState(readFileSync(file, 'utf8'));
}

/** Writes a state file atomically (readers never see half a file). */
export function writeGpuState(file: string, state: FakeGpuState): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, formatGpuState(state));
  renameSync(temp, file);
}

/** True when the pid exists and is not a zombie: only then it holds VRAM. */
export function isProcessAlive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const text = readFileSync(stat, 'utf8');
    return (
      text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z'
    );
  } catch {
    return false;
  }
}

/** The state's processes that are alive, as the fakes report them. */
export function liveProcesses(state: FakeGpuState): FakeProcess[] {
  return state.processes.filter((p) => p.hostPid || isProcessAlive(p.pid));
}

/** Used bytes of one GPU: baseline plus its live processes' known memory. */
export function usedBytesOf(state: FakeGpuState, gpu: FakeGpu): number {
  return liveProcesses(state)
    .filter((p) => p.gpu === gpu.index)
    .reduce((sum, p) => sum + (p.usedBytes ?? 0), gpu.baselineBytes);
}
