/**
 * The NVML state of one thread: the loaded library and the reader. Its
 * three operations are what the source asks for, either directly or
 * through the worker (nvml-worker.ts); replies are plain data so they
 * cross `postMessage` unchanged.
 */
import type { Result } from '../../../shared/src/result.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { NvmlLibrary } from './nvml-library.ts';
import { loadNvmlLibrary } from './nvml-library.ts';
import type { NvmlPassFailure } from './nvml-reader.ts';
import { NvmlReader } from './nvml-reader.ts';
import type { SourceSample } from './source.ts';

/** An operation of the session. */
export type NvmlOp = 'open' | 'sample' | 'close';

/** Why an operation failed: a load failure or a failed NVML call. */
export type NvmlSessionFailure =
  | NvmlPassFailure
  | {
      kind: 'library_missing' | 'library_incompatible' | 'worker_failed';
      text: string;
    };

/** What an operation answers (`open` and `close` answer `null`). */
export type NvmlReply = Result<SourceSample | null, NvmlSessionFailure>;

/** Loads, initialises, reads and shuts down NVML on the calling thread. */
export class NvmlSession {
  private lib: NvmlLibrary | null = null;
  private reader: NvmlReader | null = null;
  private initialised = false;

  constructor(private readonly libraryPath: string) {}

  /** Runs one operation; never throws. */
  run(op: NvmlOp): NvmlReply {
    if (op === 'open') return this.open();
    if (op === 'close') return this.close();
    if (!this.reader || !this.initialised) return this.open();
    const result = this.reader.read();
    if (!result.ok && result.error.reinit) {
      // Balance the init refcount before initialising again.
      this.reader.shutdown();
      this.initialised = false;
    }
    return result;
  }

  private open(): NvmlReply {
    if (!this.lib) {
      const loaded = loadNvmlLibrary(this.libraryPath);
      if (!loaded.ok) {
        return err({ kind: loaded.error.kind, text: loaded.error.message });
      }
      this.lib = loaded.value;
      this.reader = new NvmlReader(loaded.value);
    }
    if (this.initialised) return ok(null);

    const failure = this.reader?.init() ?? null;
    if (failure) return err(failure);
    this.initialised = true;
    return ok(null);
  }

  private close(): NvmlReply {
    if (this.initialised) this.reader?.shutdown();
    this.initialised = false;
    return ok(null);
  }
}
