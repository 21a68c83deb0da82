/**
 * Where NVML calls run: on the calling thread (`inline`) or in a worker
 * thread (`worker`, the default).
 *
 * Measured (fake libnvidia-ml, 2-vCPU VM, Node 20; docs/nvml.md): a whole
 * pass through synchronous koffi calls costs ~70 µs of CPU for 1 GPU × 4
 * processes and ~330 µs for 8 × 16, of which the fake itself takes about
 * half (it re-reads /proc and stats its state file). The FFI is cheap; the
 * real driver is not: NVML calls take milliseconds to hundreds of
 * milliseconds on busy multi-GPU hosts and can hang (perf-baselines.md §1,
 * bug corpus B06), which on the main thread would stall the gRPC stream,
 * the guard and the Ollama probe. koffi's `.async()` costs ~25 µs per
 * call, ~2 ms per 8 × 16 pass (about 80 calls). One worker running the
 * whole pass costs ~45–120 µs more per sample (one round trip, the sample
 * cloned) and ~25 MiB RSS. Decision: the worker by default, so a stuck
 * call makes `sample()` answer `timeout` while the event loop runs on.
 *
 * TODO: most of the worker's ~25 MiB is tsx compiling its TypeScript in
 * that thread; shipping the worker entry as plain JavaScript (a build step,
 * or Node's type stripping once Node 22 is the floor) would cut it to a
 * few MiB.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { err } from '../../../shared/src/result.ts';
import type { NvmlOp, NvmlReply } from './nvml-session.ts';
import { NvmlSession } from './nvml-session.ts';

/** Runs session operations somewhere; see the module comment. */
export interface NvmlBackend {
  run(op: NvmlOp): Promise<NvmlReply>;
  dispose(): Promise<void>;
}

/** Runs the calls on the calling thread (tests, benchmarks). */
export function createInlineBackend(libraryPath: string): NvmlBackend {
  const session = new NvmlSession(libraryPath);
  return {
    run: (op) => Promise.resolve(session.run(op)),
    dispose: () => Promise.resolve(),
  };
}

// The worker loads the TypeScript entry through tsx's CommonJS API: it
// hooks `require` in that thread only, with no loader thread of its own.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
require(workerData.tsxApi).require(workerData.entry, workerData.entry);
`;

/** Runs the calls in one worker thread, one operation at a time. */
export function createWorkerBackend(libraryPath: string): NvmlBackend {
  const require = createRequire(import.meta.url);
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    // Not the parent's flags: `--import tsx` would start a loader thread.
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 },
    workerData: {
      libraryPath,
      tsxApi: require.resolve('tsx/cjs/api'),
      entry: new URL('./nvml-worker.ts', import.meta.url).pathname,
    },
  });
  // Referenced only while a call is pending, so an idle worker never
  // keeps a one-shot command alive and a waiting one is never cut short.
  worker.unref();
  const pending = new Map<number, (reply: NvmlReply) => void>();
  let nextId = 1;

  const failAll = (text: string): void => {
    for (const resolve of pending.values()) {
      resolve(err({ kind: 'worker_failed', text }));
    }
    pending.clear();
    worker.unref();
  };
  worker.on('message', (m: { id: number; reply: NvmlReply }) => {
    pending.get(m.id)?.(m.reply);
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
  });
  worker.on('error', (e) => failAll(`the NVML worker failed: ${e.message}`));
  worker.on('exit', () => failAll('the NVML worker exited'));

  return {
    run: (op) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        worker.ref();
        worker.postMessage({ id, op });
      }),
    dispose: async () => {
      await worker.terminate();
    },
  };
}
