/**
 * A fake Ollama on loopback speaking the parts of the API gpuwarden uses
 * (`/`, `/api/version`, `/api/ps`, `/api/tags`, `/api/generate`,
 * `/api/chat`), whose speed and `size_vram` follow the fake GPU's state
 * file: when other processes hold the room the model needs, it is placed
 * partly on the CPU and every answer takes over 2 s. It writes Gin request
 * lines and model-load lines to `logFile` in Ollama's format.
 *
 * Like real Ollama, a partly offloaded model stays slow after VRAM frees
 * up until it is reloaded; with `reloadOnFreeVram` (the default, for the
 * demo) the fake reloads by itself a moment after the room comes back.
 * Unlike real Ollama, it also re-places a fully loaded model when the room
 * shrinks, standing in for the reload that follows in real life (idle
 * expiry, restart) so that the harm shows at once.
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readGpuState, writeGpuState } from './gpu-state.ts';
import type { FakeGpuState } from './gpu-state.ts';
import {
  availableForModel,
  fakeLatencyMs,
  fakeTokenLatencyMs,
  ginLine,
  loadLines,
  placeModel,
  unloadLine,
} from './fake-ollama-model.ts';
import type { Placement, PlacementOptions } from './fake-ollama-model.ts';

/** Options of {@link startFakeOllama}. */
export interface FakeOllamaOptions {
  /** The fake GPU state file (gpu-state.ts). */
  stateFile: string;
  /** Model name served, e.g. `qwen2.5:32b`. */
  model: string;
  /** Size of the loaded model in bytes (`size` in `/api/ps`). */
  modelBytes: number;
  /** GPU index the model lives on; default 0. */
  gpuIndex?: number;
  /** Where Gin and load lines go; none when absent. */
  logFile?: string;
  /** Port on 127.0.0.1; default 0 (any free one). */
  port?: number;
  /** Pid of the runner in the state file; its `used` follows `size_vram`. */
  pid?: number;
  /** Reload by itself once the room is back; default true. */
  reloadOnFreeVram?: boolean;
  /** VRAM wanted free beyond the model; default 1 GiB. */
  headroomBytes?: number;
  /** Start with the model loaded; default true. */
  loaded?: boolean;
  /** Multiplies every delay (tests use 0.05); default 1. */
  latencyScale?: number;
  /** Idle time before unloading, ms; default null = pinned forever. */
  keepAliveMs?: number | null;
  /** How often the state file is re-read, ms; default 250. */
  watchIntervalMs?: number;
  /** Delay before the self-reload after room returns, ms; default 2000. */
  reloadDelayMs?: number;
  /** `/api/version`; default `0.9.6`. */
  version?: string;
  /**
   * `uniform` (default): any offload makes every request slow.
   * `per-token`: latency grows with `options.num_predict`, so only long
   * answers go over 2 s when the model is partly offloaded.
   */
  latencyModel?: 'uniform' | 'per-token';
}

/** A request the fake served, for tests to assert on. */
export interface ServedRequest {
  method: string;
  path: string;
  status: number;
  body: Record<string, unknown> | null;
}

/** The running fake. */
export interface FakeOllama {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Where the model sits now. */
  placement(): Placement;
  /** Every request served so far. */
  requests(): ServedRequest[];
  /** Unloads the model (as `keep_alive: 0` would). */
  unload(): void;
  /** Adds `ms` to every generate and chat answer (a server that is slow). */
  setSlowdownMs(ms: number): void;
}

const PINNED_EXPIRY = '2318-06-11T10:13:52.118734005+00:00';

/** Starts the fake on 127.0.0.1. */
export async function startFakeOllama(
  options: FakeOllamaOptions,
): Promise<FakeOllama> {
  const fake = new FakeOllamaServer(options);
  return fake.listen();
}

class FakeOllamaServer {
  private placementNow: Placement;
  private readonly served: ServedRequest[] = [];
  private seq = 0;
  private lastUsedMs = Date.now();
  private keepAliveMs: number | null;
  private reloadAt: number | null = null;
  private readonly scale: number;
  private readonly placing: PlacementOptions;
  private timer: NodeJS.Timeout | null = null;
  private slowdownMs = 0;

  constructor(private readonly options: FakeOllamaOptions) {
    this.scale = options.latencyScale ?? 1;
    this.keepAliveMs = options.keepAliveMs ?? null;
    this.placing = {
      modelBytes: options.modelBytes,
      gpuIndex: options.gpuIndex ?? 0,
      pid: options.pid ?? null,
      headroomBytes: options.headroomBytes ?? 2 ** 30,
      layers: 65,
    };
    this.placementNow = this.unloaded();
    if (options.loaded ?? true) this.load();
  }

  async listen(): Promise<FakeOllama> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', resolve);
    });
    this.timer = setInterval(
      () => this.watch(),
      this.options.watchIntervalMs ?? 250,
    );
    const port = (server.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      close: async () => {
        if (this.timer) clearInterval(this.timer);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
      placement: () => ({ ...this.placementNow }),
      requests: () => [...this.served],
      unload: () => this.unload(),
      setSlowdownMs: (ms) => {
        this.slowdownMs = ms;
      },
    };
  }

  private state(): FakeGpuState | null {
    try {
      return readGpuState(this.options.stateFile);
    } catch {
      return null; // Mid-rename or not written yet: keep what we had.
    }
  }

  private unloaded(): Placement {
    const { modelBytes, layers } = this.placing;
    return {
      loaded: false,
      sizeBytes: modelBytes,
      sizeVramBytes: 0,
      layersOnGpu: 0,
      layersTotal: layers,
      availableBytes: 0,
    };
  }

  private load(): void {
    const state = this.state();
    if (!state) return;
    this.placementNow = placeModel(state, this.placing);
    this.reloadAt = null;
    this.lastUsedMs = Date.now();
    const gpuUuid =
      state.gpus.find((g) => g.index === this.placing.gpuIndex)?.uuid ??
      'GPU-unknown';
    this.writeLog(
      loadLines(new Date(), this.placementNow, {
        gpuUuid,
        headroomBytes: this.placing.headroomBytes,
        loadSeconds: 3.52,
      }),
    );
    this.syncRunnerMemory(state);
  }

  private unload(): void {
    if (!this.placementNow.loaded) return;
    this.placementNow = this.unloaded();
    this.writeLog([unloadLine(new Date(), this.options.model)]);
    const state = this.state();
    if (state) this.syncRunnerMemory(state);
  }

  /** Keeps the runner's `used` in the state file equal to `size_vram`. */
  private syncRunnerMemory(state: FakeGpuState): void {
    const runner = state.processes.find(
      (p) => p.pid === this.placing.pid && p.gpu === this.placing.gpuIndex,
    );
    if (!runner || runner.usedBytes === this.placementNow.sizeVramBytes) return;
    runner.usedBytes = this.placementNow.sizeVramBytes;
    writeGpuState(this.options.stateFile, state);
  }

  /** Follows the GPU state: squeeze when room shrinks, reload when back. */
  private watch(): void {
    const now = Date.now();
    const p = this.placementNow;
    if (
      p.loaded &&
      this.keepAliveMs !== null &&
      now - this.lastUsedMs > this.keepAliveMs
    ) {
      this.unload();
      return;
    }
    const state = p.loaded ? this.state() : null;
    if (!state) return;
    const fitsFull =
      availableForModel(state, this.placing) - this.placing.headroomBytes >=
      this.placing.modelBytes;
    const wouldFit = placeModel(state, this.placing).layersOnGpu;
    if (wouldFit < p.layersOnGpu) {
      this.writeLog([unloadLine(new Date(), this.options.model)]);
      this.load();
    } else if (
      p.layersOnGpu < p.layersTotal &&
      fitsFull &&
      (this.options.reloadOnFreeVram ?? true)
    ) {
      this.reloadAt ??= now + (this.options.reloadDelayMs ?? 2000) * this.scale;
      if (now >= this.reloadAt) {
        this.writeLog([unloadLine(new Date(), this.options.model)]);
        this.load();
      }
    } else {
      this.reloadAt = null;
    }
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const startedMs = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const body = await readJson(req);
    const answer = await this.route(req.method ?? 'GET', path, body);
    const status = answer.status;
    res.writeHead(status, {
      'content-type':
        typeof answer.body === 'string' ? 'text/plain' : 'application/json',
    });
    res.end(
      typeof answer.body === 'string'
        ? answer.body
        : JSON.stringify(answer.body),
    );
    this.served.push({ method: req.method ?? 'GET', path, status, body });
    const clientIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const latencyMs = performance.now() - startedMs;
    this.writeLog([
      ginLine({
        at: new Date(),
        status,
        latencyMs,
        clientIp,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
      }),
    ]);
  }

  private async route(
    method: string,
    path: string,
    body: Record<string, unknown> | null,
  ): Promise<{ status: number; body: unknown }> {
    if (path === '/' && (method === 'GET' || method === 'HEAD'))
      return { status: 200, body: 'Ollama is running' };
    if (path === '/api/version')
      return {
        status: 200,
        body: { version: this.options.version ?? '0.9.6' },
      };
    if (path === '/api/ps' && method === 'GET')
      return { status: 200, body: { models: this.psModels() } };
    if (path === '/api/tags' && method === 'GET')
      return { status: 200, body: { models: [this.tag()] } };
    if ((path === '/api/generate' || path === '/api/chat') && method === 'POST')
      return this.generate(path, body);
    return { status: 404, body: '404 page not found' };
  }

  private psModels(): unknown[] {
    const p = this.placementNow;
    if (!p.loaded) return [];
    const expires =
      this.keepAliveMs === null
        ? PINNED_EXPIRY
        : new Date(this.lastUsedMs + this.keepAliveMs).toISOString();
    return [
      {
        ...this.describe(),
        size: p.sizeBytes,
        size_vram: p.sizeVramBytes,
        expires_at: expires,
        context_length: 8192,
      },
    ];
  }

  private tag(): unknown {
    return {
      ...this.describe(),
      modified_at: '2026-02-20T09:00:00Z',
      size: Math.round(this.options.modelBytes * 0.9),
    };
  }

  private describe(): Record<string, unknown> {
    const { model } = this.options;
    return {
      name: model,
      model,
      digest:
        '3e1f8a0c5b7d29f4e6a1c0d8b2f47a9e5c3d1b0f8e6a4c2d0b9f7e5d3c1a0b2e',
      details: {
        parent_model: '',
        format: 'gguf',
        family: 'qwen2',
        families: ['qwen2'],
        parameter_size: '32.8B',
        quantization_level: 'Q4_K_M',
      },
    };
  }

  private async generate(
    path: string,
    body: Record<string, unknown> | null,
  ): Promise<{ status: number; body: unknown }> {
    if (!body) return { status: 400, body: { error: 'missing request body' } };
    if (body.model !== this.options.model)
      return {
        status: 404,
        body: {
          error: `model "${String(body.model)}" not found, try pulling it first`,
        },
      };
    const startedMs = Date.now();
    if (body.keep_alive === 0 && isEmptyRequest(path, body)) {
      this.unload();
      return {
        status: 200,
        body: {
          model: this.options.model,
          created_at: new Date().toISOString(),
          response: '',
          done: true,
          done_reason: 'unload',
        },
      };
    }
    let loadMs = 0;
    if (!this.placementNow.loaded) {
      // A fresh runner starts from the server default unless told otherwise.
      this.keepAliveMs = this.options.keepAliveMs ?? null;
      loadMs = 3000 * this.scale;
      await sleep(loadMs);
      this.load();
    }
    if (body.keep_alive !== undefined) {
      this.keepAliveMs = keepAliveToMs(body.keep_alive);
    }
    if (isEmptyRequest(path, body))
      return {
        status: 200,
        body: this.final(path, startedMs, loadMs, 0, 'load'),
      };
    const latencyMs = this.latencyFor(body) * this.scale + this.slowdownMs;
    await sleep(latencyMs);
    this.lastUsedMs = Date.now();
    return {
      status: 200,
      body: this.final(path, startedMs, loadMs, latencyMs, 'stop'),
    };
  }

  private latencyFor(body: Record<string, unknown>): number {
    const seq = this.seq++;
    if (this.options.latencyModel !== 'per-token') {
      return fakeLatencyMs(this.placementNow, seq);
    }
    const options = body.options as Record<string, unknown> | undefined;
    const tokens = Number(options?.num_predict ?? 64);
    const count = Number.isFinite(tokens) && tokens > 0 ? tokens : 64;
    return fakeTokenLatencyMs(this.placementNow, seq, count);
  }

  private final(
    path: string,
    startedMs: number,
    loadMs: number,
    evalMs: number,
    doneReason: string,
  ): unknown {
    const ns = (ms: number): number => Math.round(ms * 1e6);
    const common = {
      model: this.options.model,
      created_at: new Date().toISOString(),
      done: true,
      done_reason: doneReason,
    };
    if (doneReason === 'load')
      return {
        ...common,
        ...(path === '/api/chat'
          ? { message: { role: 'assistant', content: '' } }
          : { response: '' }),
      };
    const text =
      path === '/api/chat'
        ? { message: { role: 'assistant', content: 'OK' } }
        : { response: 'OK' };
    return {
      ...common,
      ...text,
      total_duration: ns(Date.now() - startedMs),
      load_duration: ns(loadMs),
      prompt_eval_count: 12,
      prompt_eval_duration: ns(evalMs * 0.2),
      eval_count: 1,
      eval_duration: ns(evalMs * 0.8),
    };
  }

  private writeLog(lines: string[]): void {
    if (!this.options.logFile || lines.length === 0) return;
    appendFileSync(this.options.logFile, `${lines.join('\n')}\n`);
  }
}

function isEmptyRequest(path: string, body: Record<string, unknown>): boolean {
  if (path === '/api/chat')
    return Array.isArray(body.messages) && body.messages.length === 0;
  return body.prompt === undefined || body.prompt === '';
}

function keepAliveToMs(value: unknown): number | null {
  if (typeof value === 'number') return value < 0 ? null : value * 1000;
  const match =
    typeof value === 'string' ? /^(-?\d+)(s|m|h)$/.exec(value) : null;
  if (!match) return null;
  const n = Number(match[1]);
  return n < 0
    ? null
    : n * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

function readJson(
  req: IncomingMessage,
): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const value: unknown = JSON.parse(
          Buffer.concat(chunks).toString('utf8'),
        );
        resolve(
          typeof value === 'object' && value !== null
            ? (value as Record<string, unknown>)
            : null,
        );
      } catch {
        resolve(null);
      }
    });
    req.on('error', () => resolve(null));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
