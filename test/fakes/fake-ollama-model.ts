/**
 * The fake Ollama's model of the world, without I/O: where the model's
 * layers go given the fake GPU's state, how slow that makes it, and the
 * log lines real Ollama writes (Gin request lines, slog and llama.cpp load
 * lines). The server in fake-ollama.ts reads the state and applies these.
 */
import { liveProcesses } from './gpu-state.ts';
import type { FakeGpuState } from './gpu-state.ts';

/** Where the model sits. */
export interface Placement {
  loaded: boolean;
  /** What `/api/ps` reports as `size`. */
  sizeBytes: number;
  /** What `/api/ps` reports as `size_vram`. */
  sizeVramBytes: number;
  layersOnGpu: number;
  layersTotal: number;
  /** VRAM the model could use when it was placed. */
  availableBytes: number;
}

/** The knobs placement depends on. */
export interface PlacementOptions {
  modelBytes: number;
  gpuIndex: number;
  /** The runner's pid: its own memory is not "taken by others". */
  pid: number | null;
  /** VRAM Ollama wants free beyond the model (KV growth, graph, minimum). */
  headroomBytes: number;
  layers: number;
}

/** VRAM the model could use: total minus what everything else holds. */
export function availableForModel(
  state: FakeGpuState,
  options: PlacementOptions,
): number {
  const gpu = state.gpus.find((g) => g.index === options.gpuIndex);
  if (!gpu || gpu.lost) return 0;
  const others = liveProcesses(state)
    .filter((p) => p.gpu === gpu.index && p.pid !== options.pid)
    .reduce((sum, p) => sum + (p.usedBytes ?? 0), 0);
  return gpu.totalBytes - gpu.reservedBytes - gpu.baselineBytes - others;
}

/** Places the model as a load would now: whole, or the layers that fit. */
export function placeModel(
  state: FakeGpuState,
  options: PlacementOptions,
): Placement {
  const availableBytes = availableForModel(state, options);
  const { modelBytes, layers } = options;
  const layerBytes = modelBytes / layers;
  const room = availableBytes - options.headroomBytes;
  const layersOnGpu =
    room >= modelBytes
      ? layers
      : Math.max(0, Math.min(layers - 1, Math.floor(room / layerBytes)));
  return {
    loaded: true,
    sizeBytes: modelBytes,
    sizeVramBytes:
      layersOnGpu === layers
        ? modelBytes
        : Math.round(layersOnGpu * layerBytes),
    layersOnGpu,
    layersTotal: layers,
    availableBytes,
  };
}

/**
 * Request latency in ms: 300–449 ms fully on the GPU (varying with `seq`);
 * any offload multiplies it by 6, adds 300 ms and 30 s per whole model
 * offloaded, so even one layer on the CPU takes it over 2 s, as in the
 * incident.
 */
export function fakeLatencyMs(placement: Placement, seq: number): number {
  const baseMs = 300 + ((seq * 37) % 150);
  if (placement.sizeVramBytes >= placement.sizeBytes) return baseMs;
  const offloaded = 1 - placement.sizeVramBytes / placement.sizeBytes;
  return Math.round(baseMs * 6 + 300 + offloaded * 30_000);
}

/**
 * Request latency in ms when it depends on how many tokens are generated
 * (`options.num_predict`, default 64): about 80 ms plus 4 ms a token fully
 * on the GPU; with any offload 2.5 times slower plus 60 ms a token per
 * whole model offloaded. Short answers then stay under 2 s while long
 * ones go over it, as mixed traffic does on a partly offloaded model.
 */
export function fakeTokenLatencyMs(
  placement: Placement,
  seq: number,
  tokens: number,
): number {
  const gpuMs = 80 + 4 * tokens + ((seq * 13) % 60);
  if (placement.sizeVramBytes >= placement.sizeBytes) return gpuMs;
  const offloaded = 1 - placement.sizeVramBytes / placement.sizeBytes;
  return Math.round(gpuMs * 2.5 + offloaded * tokens * 60);
}

/** Go's `Duration.String()` of `ms`, as Gin prints it (whole s above 1 m). */
export function formatGoDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  if (ns < 60e9) return `${trim(ns / 1e9)}s`;
  const seconds = Math.floor(ns / 1e9);
  const [h, m, s] = [
    Math.floor(seconds / 3600),
    Math.floor(seconds / 60) % 60,
    seconds % 60,
  ];
  return `${h > 0 ? `${h}h` : ''}${m}m${s}s`;
}

function trim(value: number): string {
  return String(Number(value.toFixed(9)));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** One Gin request line, stamped with `at` in the process's local zone. */
export function ginLine(request: {
  at: Date;
  status: number;
  latencyMs: number;
  clientIp: string;
  method: string;
  path: string;
}): string {
  const d = request.at;
  const stamp = `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} - ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const latency = formatGoDuration(request.latencyMs).padStart(13);
  return `[GIN] ${stamp} | ${request.status} | ${latency} | ${request.clientIp.padStart(15)} | ${request.method.padEnd(7)}  ${JSON.stringify(request.path)}`;
}

/** RFC 3339 with the local offset and milliseconds, as slog prints `time=`. */
export function slogTime(d: Date): string {
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const ms = String(d.getMilliseconds()).padStart(3, '0');
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${ms}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);

/** The lines a load writes (Ollama ≤ 0.11 with its llama.cpp runner). */
export function loadLines(
  at: Date,
  placement: Placement,
  options: { gpuUuid: string; headroomBytes: number; loadSeconds: number },
): string[] {
  const t = `time=${slogTime(at)} level=INFO`;
  const p = placement;
  const cpuBytes = p.sizeBytes - p.sizeVramBytes;
  return [
    `${t} source=server.go:135 msg="gpu memory" id=${options.gpuUuid} library=CUDA available="${gib(p.availableBytes - options.headroomBytes)}" free="${gib(p.availableBytes)}" minimum="457.0 MiB" overhead="0 B"`,
    `${t} source=server.go:211 msg="offload to cuda" layers.requested=-1 layers.model=${p.layersTotal} layers.offload=${p.layersOnGpu} layers.split="" memory.available="[${gib(p.availableBytes)}]" memory.gpu_overhead="0 B" memory.required.full="${gib(p.sizeBytes + options.headroomBytes)}" memory.required.partial="${gib(p.sizeVramBytes)}"`,
    `${t} source=server.go:398 msg="starting llama server" cmd="/usr/local/bin/ollama runner --model /usr/share/ollama/.ollama/models/blobs/sha256-3e1f8a0c --ctx-size 8192 --batch-size 512 --n-gpu-layers ${p.layersOnGpu} --threads 16 --parallel 1 --port 40513"`,
    `load_tensors: offloaded ${p.layersOnGpu}/${p.layersTotal} layers to GPU`,
    `load_tensors:        CUDA0 model buffer size = ${mib(p.sizeVramBytes)} MiB`,
    `load_tensors:   CPU_Mapped model buffer size = ${mib(Math.max(cpuBytes, 417 * 2 ** 20))} MiB`,
    `${t} source=server.go:637 msg="llama runner started in ${options.loadSeconds.toFixed(2)} seconds"`,
  ];
}

/** The line an unload writes. */
export function unloadLine(at: Date, model: string): string {
  return `time=${slogTime(at)} level=INFO source=sched.go:512 msg="stopping llama server" model=${model}`;
}
