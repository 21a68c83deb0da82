/**
 * Ollama's model-load lines as health evidence: how many layers went to
 * the GPU, how much VRAM was free when the load was planned, which buffers
 * landed on the CPU, and loads that failed. The message text changed with
 * each engine (research/ollama.md §2.3), so several forms are matched.
 */
import { parseBytes } from '../../../shared/src/units.ts';
import { parseSlogLine } from './slog-line.ts';
import type { SlogFields } from './slog-line.ts';

/** One fact a load line states. Sizes are bytes; `null` when not printed. */
export type LoadEvidence =
  | { kind: 'load_start'; gpuLayers: number | null }
  | { kind: 'load_done'; seconds: number }
  | { kind: 'layers'; onGpu: number; total: number }
  | {
      kind: 'buffer';
      device: string;
      what: 'model' | 'kv' | 'compute';
      bytes: number;
      onCpu: boolean;
    }
  | { kind: 'total_memory'; bytes: number }
  | {
      kind: 'plan';
      layersModel: number | null;
      layersOffload: number | null;
      availableBytes: number | null;
      requiredFullBytes: number | null;
      requiredPartialBytes: number | null;
    }
  | {
      kind: 'gpu_free';
      gpu: string | null;
      freeBytes: number | null;
      availableBytes: number | null;
      plannedLayers: number | null;
    }
  | { kind: 'overflow'; device: string; layers: number; overflowing: number }
  | {
      kind: 'inference_compute';
      gpu: string | null;
      name: string | null;
      totalBytes: number | null;
      availableBytes: number | null;
    }
  | { kind: 'default_context'; totalVramBytes: number | null; numCtx: number }
  | { kind: 'vram_not_recovered'; seconds: number | null }
  | { kind: 'load_failed'; reason: string };

/** A recognised load line: its evidence and its own stamp, if it has one. */
export interface LoadLine {
  /** From slog's `time=`, epoch ms; `null` for raw llama.cpp lines. */
  atMs: number | null;
  evidence: LoadEvidence;
}

const MIB = 2 ** 20;
const FAILURES: readonly RegExp[] = [
  /CUDA error: out of memory/,
  /cudaMalloc failed: out of memory/,
  /unable to allocate \S+ buffer/,
  /llama runner process has terminated[^"]*/,
  /error loading model[^"]*/,
];

/** Parses one log line; `null` when it says nothing about loads. */
export function parseLoadLine(line: string): LoadLine | null {
  const slog = parseSlogLine(line);
  const stamp = slog ? Date.parse(slog.time ?? '') : Number.NaN;
  const atMs = Number.isFinite(stamp) ? stamp : null;
  const evidence = (slog && fromSlog(slog)) ?? fromText(line);
  return evidence ? { atMs, evidence } : null;
}

// Each pattern runs only on lines holding its literal part, which keeps a
// long line of noise from costing quadratic regex time.
function fromText(line: string): LoadEvidence | null {
  for (const failure of FAILURES) {
    const match = failure.exec(line);
    if (match) return { kind: 'load_failed', reason: match[0].trim() };
  }
  let m = /offloaded\s+(\d+)\/(\d+)\s+layers to GPU/.exec(line);
  if (m) return { kind: 'layers', onGpu: num(m[1]), total: num(m[2]) };
  m = line.includes(' buffer size =')
    ? /(\S+) (model|KV|compute) buffer size =\s*([\d.]+) MiB/.exec(line)
    : null;
  if (m) return buffer(m[1] ?? '', m[2] ?? '', Number(m[3]) * MIB);
  m = /using device (\S+) \(.*\) - (\d+) MiB free/.exec(line);
  if (m) return gpuFree(m[1] ?? null, num(m[2]) * MIB, null, null);
  m = /(\d+) Mi?B VRAM available, loading up to (\d+) GPU layers/.exec(line);
  if (m) return gpuFree(null, num(m[1]) * MIB, null, num(m[2]));
  m = line.includes('overflowing)')
    ? /-\s*(\S+):\s*(\d+) layers \(\s*(\d+) overflowing\)/.exec(line)
    : null;
  if (m) {
    const [device, layers, overflowing] = [m[1] ?? '', num(m[2]), num(m[3])];
    return { kind: 'overflow', device, layers, overflowing };
  }
  m = /runner started in ([\d.]+) seconds/.exec(line);
  if (m) return { kind: 'load_done', seconds: Number(m[1]) };
  return null;
}

function fromSlog(f: SlogFields): LoadEvidence | null {
  const msg = f.msg ?? '';
  if (/^starting (llama server|runner|llama-server)$/.test(msg)) {
    const layers = /--n-gpu-layers (\d+)/.exec(f.cmd ?? '');
    return { kind: 'load_start', gpuLayers: layers ? num(layers[1]) : null };
  }
  if (msg === 'offload to cuda' || msg === 'offload') {
    return {
      kind: 'plan',
      layersModel: optNum(f['layers.model']),
      layersOffload: optNum(f['layers.offload']),
      availableBytes: size(f['memory.available']),
      requiredFullBytes: size(f['memory.required.full']),
      requiredPartialBytes: size(f['memory.required.partial']),
    };
  }
  const what = SLOG_BUFFERS[msg];
  if (what && f.device && size(f.size) !== null) {
    return buffer(f.device, what, size(f.size) ?? 0);
  }
  return fromSlogMemory(msg, f);
}

const SLOG_BUFFERS: Readonly<Record<string, 'model' | 'kv' | 'compute'>> = {
  'model weights': 'model',
  'kv cache': 'kv',
  'compute graph': 'compute',
};

function fromSlogMemory(msg: string, f: SlogFields): LoadEvidence | null {
  if (msg === 'total memory' && size(f.size) !== null) {
    return { kind: 'total_memory', bytes: size(f.size) ?? 0 };
  }
  if (msg === 'gpu memory') {
    return gpuFree(f.id ?? null, size(f.free), size(f.available), null);
  }
  if (msg === 'updated VRAM based on existing loaded models') {
    return gpuFree(f.gpu ?? null, size(f.available), null, null);
  }
  if (msg === 'inference compute') {
    const [gpu, name] = [f.id ?? null, f.name ?? null];
    const [totalBytes, availableBytes] = [size(f.total), size(f.available)];
    return { kind: 'inference_compute', gpu, name, totalBytes, availableBytes };
  }
  if (msg === 'vram-based default context' && f.default_num_ctx) {
    const totalVramBytes = size(f.total_vram);
    return {
      kind: 'default_context',
      totalVramBytes,
      numCtx: num(f.default_num_ctx),
    };
  }
  if (msg.startsWith("gpu VRAM usage didn't recover")) {
    return { kind: 'vram_not_recovered', seconds: optNum(f.seconds) };
  }
  return null;
}

function buffer(device: string, what: string, bytes: number): LoadEvidence {
  const kind = what === 'KV' ? 'kv' : what;
  return {
    kind: 'buffer',
    device,
    what: kind as 'model' | 'kv' | 'compute',
    bytes: Math.round(bytes),
    onCpu: /^CPU/i.test(device),
  };
}

function gpuFree(
  gpu: string | null,
  freeBytes: number | null,
  availableBytes: number | null,
  plannedLayers: number | null,
): LoadEvidence {
  return { kind: 'gpu_free', gpu, freeBytes, availableBytes, plannedLayers };
}

function num(text: string | undefined): number {
  return Number(text ?? Number.NaN);
}

function optNum(text: string | undefined): number | null {
  const value = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(value)
    ? value
    : null;
}

/** Ollama's own size text (`21.3 GiB`, `0 B`, `[20.6 GiB]`) in bytes. */
function size(text: string | undefined): number | null {
  if (text === undefined) return null;
  const first = text.replace(/^\[|\]$/g, '').match(/[\d.]+\s*[A-Za-z]+/);
  return first ? parseBytes(first[0]) : null;
}
