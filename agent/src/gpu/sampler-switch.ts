/**
 * Which GPU source to try, in which order: with `auto`, NVML first and
 * nvidia-smi when NVML fails; while falling back, NVML is tried again
 * every `retryMs` so the sampler returns to it once it works. Logs each
 * change once (on entry and on recovery), never every sample.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { SampleSource } from '../../../shared/src/snapshot.ts';
import { describeAllFailed } from './sampler-failure.ts';
import type { FailureContext, SourceAttempt } from './sampler-failure.ts';
import type { SourceChoice } from './sampling-config.ts';
import type { SourceFailure } from './source.ts';

const LABELS: Record<SampleSource, string> = {
  nvml: 'NVML',
  'nvidia-smi': 'nvidia-smi',
};

interface FailureRecord {
  failure: SourceFailure;
  atMonoMs: number;
}

/** The source-choice state of one sampler. */
export class SourceSwitch {
  private readonly candidates: readonly SampleSource[];
  private readonly failures = new Map<SampleSource, FailureRecord>();
  private currentKind: SampleSource | null = null;
  private allDown = false;

  constructor(
    choice: SourceChoice,
    private readonly retryMs: number,
    private readonly deps: { clock: Clock; logger: Logger },
    private readonly context: FailureContext,
  ) {
    this.candidates = choice === 'auto' ? ['nvml', 'nvidia-smi'] : [choice];
  }

  /** The source used when it works: NVML for `auto`, else the forced one. */
  preferred(): SampleSource {
    return this.candidates[0] ?? 'nvml';
  }

  /** The source of the last successful sample; `null` when none works. */
  current(): SampleSource | null {
    return this.currentKind;
  }

  /** The sources to try now, in order; recently failed ones last. */
  order(): SampleSource[] {
    const nowMs = this.deps.clock.monotonicMs();
    const waiting = (kind: SampleSource): boolean => {
      const record = this.failures.get(kind);
      return (
        kind !== this.currentKind &&
        record !== undefined &&
        nowMs - record.atMonoMs < this.retryMs
      );
    };
    return [
      ...this.candidates.filter((kind) => !waiting(kind)),
      ...this.candidates.filter(waiting),
    ];
  }

  /** Records a failed read of `kind`. */
  failed(kind: SampleSource, failure: SourceFailure): void {
    const known = this.failures.get(kind)?.failure;
    this.failures.set(kind, {
      failure,
      atMonoMs: this.deps.clock.monotonicMs(),
    });
    if (kind === this.currentKind || known?.kind !== failure.kind) {
      this.deps.logger.warn(
        { source: kind, kind: failure.kind, reason: failure.message },
        'gpu source failed',
      );
    }
  }

  /** Records a successful read of `kind`; logs a change of source. */
  succeeded(kind: SampleSource): void {
    const previous = this.currentKind;
    this.failures.delete(kind);
    this.currentKind = kind;
    this.allDown = false;
    if (previous === kind) return;
    const fields = { source: kind, previous, reason: this.lastError() };
    if (kind === this.preferred()) {
      this.deps.logger.info(fields, 'sampling with preferred gpu source');
    } else {
      this.deps.logger.warn(fields, 'sampling with fallback gpu source');
    }
  }

  /** Every source failed this time: the failure to report. */
  allFailed(): SourceFailure {
    const failure = this.combinedFailure();
    if (!this.allDown) {
      const reasons = Object.fromEntries(
        this.attempts().map((a) => [a.source, a.failure.message]),
      );
      this.deps.logger.warn(
        { kind: failure.kind, reason: failure.message, reasons },
        'no gpu source could be read',
      );
    }
    this.allDown = true;
    this.currentKind = null;
    return failure;
  }

  /**
   * Why the preferred source is not in use, or why nothing works; `null`
   * when the preferred source is working.
   */
  lastError(): string | null {
    if (this.allDown) return this.combinedFailure().message;
    const preferred = this.preferred();
    const record = this.failures.get(preferred);
    if (this.currentKind === preferred || !record) return null;
    const using = this.currentKind ? LABELS[this.currentKind] : 'nothing';
    return `${LABELS[preferred]} failed (${record.failure.message}); sampling with ${using}`;
  }

  /** The latest failure of each candidate that has one, in order. */
  private attempts(): SourceAttempt[] {
    return this.candidates.flatMap((source) => {
      const record = this.failures.get(source);
      return record ? [{ source, failure: record.failure }] : [];
    });
  }

  /**
   * One source's own message when only one was tried; for several, a
   * short line naming each (their full messages are logged).
   */
  private combinedFailure(): SourceFailure {
    const attempts = this.attempts();
    const first = attempts[0]?.failure;
    if (attempts.length <= 1 && first) return first;

    const kinds = new Set(attempts.map((a) => a.failure.kind));
    return {
      kind: kinds.size === 1 ? (first?.kind ?? 'no_source') : 'no_source',
      message: describeAllFailed(attempts, this.context),
      retryable: attempts.some((a) => a.failure.retryable),
    };
  }
}
