/**
 * The Ollama side of the guard's harm signals (agent/src/guard/harm.ts):
 * recent latency, partial offload, demand while the model is not loaded,
 * and failed loads, each over a sliding window. Pure: time comes in.
 */
import type { HarmSignals } from '../guard/harm.ts';
import { formatBytes, formatDurationWords } from '../../../shared/src/units.ts';
import type { ResidencyState } from './residency.ts';

/** Options of {@link HarmTracker}. */
export interface HarmTrackerOptions {
  /** How far back each signal looks, ms. */
  windowMs: number;
  /** A served request slower than this is bad, ms. */
  latencyThresholdMs: number;
  /** Fewer events than this in the window: latency says nothing (null). */
  minEvents: number;
  /** Bad share above which latency counts as breached (0.05 = p95). */
  badRatio: number;
}

/** Latency breaches when over 5 % of at least 3 recent events are bad. */
export const DEFAULT_HARM_OPTIONS: Omit<
  HarmTrackerOptions,
  'windowMs' | 'latencyThresholdMs'
> = { minEvents: 3, badRatio: 0.05 };

// Outcomes are kept per second, so the window stays small at any traffic.
const MAX_KEPT = 10_000;

interface Sample {
  atMs: number;
  total: number;
  bad: number;
}

/** What the tracker knows beyond residency. */
export interface HarmContext {
  residency: ResidencyState;
  /** True when a request log is being read (demand can be seen). */
  logKnown: boolean;
  nowMs: number;
}

/** Keeps recent evidence and answers {@link HarmSignals}. */
export class HarmTracker {
  private samples: Sample[] = [];
  private demand: number[] = [];
  private failures: { atMs: number; reason: string }[] = [];
  private partialLoads: { atMs: number; onGpu: number; total: number }[] = [];

  constructor(private readonly options: HarmTrackerOptions) {}

  /** A probe or a served/failed request. */
  recordOutcome(atMs: number, failed: boolean, latencyMs: number): void {
    const bad = failed || latencyMs > this.options.latencyThresholdMs ? 1 : 0;
    const secondMs = Math.floor(atMs / 1000) * 1000;
    const last = this.samples[this.samples.length - 1];
    if (last && last.atMs === secondMs) {
      last.total += 1;
      last.bad += bad;
    } else {
      this.samples.push({ atMs: secondMs, total: 1, bad });
    }
    if (this.samples.length > MAX_KEPT) this.samples.shift();
  }

  /** A request that needed the model, or a load that started. */
  recordDemand(atMs: number): void {
    this.demand.push(atMs);
    if (this.demand.length > MAX_KEPT) this.demand.shift();
  }

  /** A model load that failed (out of memory, runner died). */
  recordLoadFailure(atMs: number, reason: string): void {
    this.failures.push({ atMs, reason });
  }

  /** A load's layer split from the log (partial when onGpu < total). */
  recordLayers(atMs: number, onGpu: number, total: number): void {
    this.partialLoads.push({ atMs, onGpu, total });
  }

  /** The signals now. */
  signals(context: HarmContext): HarmSignals {
    this.prune(context.nowMs);
    const evidence: string[] = [];
    const latencyBreached = this.latency(evidence);
    const modelPartlyOnCpu = this.partial(context, evidence);
    const modelNotResidentWhileRequestsWait = this.notResident(
      context,
      evidence,
    );
    const recentLoadFailure = this.loadFailure(context, evidence);
    return {
      latencyBreached,
      modelPartlyOnCpu,
      modelNotResidentWhileRequestsWait,
      recentLoadFailure,
      evidence,
    };
  }

  private latency(evidence: string[]): boolean | null {
    const total = this.samples.reduce((sum, s) => sum + s.total, 0);
    if (total < this.options.minEvents) return null;
    const bad = this.samples.reduce((sum, s) => sum + s.bad, 0);
    const breached = bad / total > this.options.badRatio;
    if (breached) {
      const over = formatDurationWords(this.options.latencyThresholdMs);
      const window = formatDurationWords(this.options.windowMs);
      evidence.push(
        `${bad} of ${total} requests in the last ${window} failed or took over ${over}`,
      );
    }
    return breached;
  }

  private partial(context: HarmContext, evidence: string[]): boolean | null {
    const { phase, running } = context.residency;
    if (phase === 'partly_on_cpu' && running) {
      evidence.push(
        `${running.name} partly on CPU (${formatBytes(running.sizeVramBytes)} of ${formatBytes(running.sizeBytes)} on GPU)`,
      );
      return true;
    }
    if (phase === 'resident' || phase === 'not_resident') return false;
    const last = this.partialLoads[this.partialLoads.length - 1];
    if (last && last.onGpu < last.total) {
      evidence.push(
        `the last load put ${last.onGpu} of ${last.total} layers on the GPU`,
      );
      return true;
    }
    return null;
  }

  private notResident(
    context: HarmContext,
    evidence: string[],
  ): boolean | null {
    const { phase } = context.residency;
    if (phase === 'unknown' || phase === 'unreachable') return null;
    if (phase !== 'not_resident') return false;
    if (this.demand.length > 0) {
      const window = formatDurationWords(this.options.windowMs);
      evidence.push(
        `the model is not loaded and ${this.demand.length} requests or loads came in the last ${window}`,
      );
      return true;
    }
    return context.logKnown ? false : null;
  }

  private loadFailure(
    context: HarmContext,
    evidence: string[],
  ): boolean | null {
    const last = this.failures[this.failures.length - 1];
    if (last) {
      const ago = formatDurationWords(context.nowMs - last.atMs);
      evidence.push(`a model load failed ${ago} ago: ${last.reason}`);
      return true;
    }
    return context.logKnown ? false : null;
  }

  private prune(nowMs: number): void {
    const fromMs = nowMs - this.options.windowMs;
    this.samples = this.samples.filter((s) => s.atMs >= fromMs);
    this.demand = this.demand.filter((atMs) => atMs >= fromMs);
    this.failures = this.failures.filter((f) => f.atMs >= fromMs);
    this.partialLoads = this.partialLoads.filter((l) => l.atMs >= fromMs);
  }
}
