/**
 * Reads Ollama's log lines: requests become SLI outcomes (own probes left
 * out, since they are counted as probes), load lines become evidence, and
 * everything else is counted and skipped. Never throws on a line.
 */
import type { SliEvent } from '../../../shared/src/messages.ts';
import type { GinRequest, RequestVerdict } from './gin-line.ts';
import type { LoadEvidence } from './load-lines.ts';
import { classifyLogLine } from './log-line.ts';
import type { LogLineKind, RawLogLine } from './log-line.ts';
import { SliAggregator } from './sli-aggregator.ts';
import type { LocalToUtc } from './zoned-time.ts';

/** Options of {@link RequestLogReader}. */
export interface RequestLogOptions {
  model: string | null;
  /** SLI aggregation interval, ms. */
  intervalMs: number;
  /** How long an interval waits for late lines after it ends, ms. */
  graceMs: number;
  toUtc: LocalToUtc;
}

/** Where the reader hands what it found. */
export interface RequestLogDeps {
  /** A request the SLI counted (`failed` for 499 and 5xx). */
  onRequest?: (request: GinRequest, failed: boolean) => void;
  /** A load fact; `atMs` is the line's stamp or the time it was read. */
  onLoad?: (evidence: LoadEvidence, atMs: number) => void;
}

/** Counts of every kind of line read. */
export interface RequestLogStats {
  lines: number;
  /** Requests the SLI counted. */
  counted: number;
  /** Of those, failed (499, 5xx). */
  failed: number;
  /** Housekeeping endpoints and methods (`/api/ps`, `HEAD /`, OPTIONS). */
  excluded: number;
  /** 4xx other than 499: the client's fault, not counted. */
  clientErrors: number;
  /** The agent's own probe requests, counted as probes instead. */
  ownProbes: number;
  loadLines: number;
  /** `[GIN]` lines that could not be read. */
  malformed: number;
  /** Lines that are none of the above. */
  ignored: number;
  /** Outcomes stamped before an already emitted interval. */
  late: number;
}

interface PendingProbe {
  sentAtMs: number;
  endAtMs: number | null;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const PROBE_SLACK_MS = 2000;

/** Turns log lines into SLI events and load evidence. */
export class RequestLogReader {
  private readonly aggregator: SliAggregator;
  private readonly pending: PendingProbe[] = [];
  private readonly counts: Omit<RequestLogStats, 'late'> = {
    lines: 0,
    counted: 0,
    failed: 0,
    excluded: 0,
    clientErrors: 0,
    ownProbes: 0,
    loadLines: 0,
    malformed: 0,
    ignored: 0,
  };

  constructor(
    private readonly options: RequestLogOptions,
    private readonly deps: RequestLogDeps = {},
  ) {
    this.aggregator = new SliAggregator({
      source: 'requests',
      workload: 'ollama',
      model: options.model,
      intervalMs: options.intervalMs,
      graceMs: options.graceMs,
    });
  }

  /** Starts the interval clock so quiet intervals are emitted as empty. */
  begin(nowMs: number): void {
    this.aggregator.begin(nowMs);
  }

  /** Reads one line; returns what it was. */
  ingest(line: RawLogLine, nowMs: number): LogLineKind {
    this.counts.lines += 1;
    const kind = classifyLogLine(line, this.options.toUtc);
    if (kind.kind === 'request')
      this.request(kind.request, kind.verdict, nowMs);
    else if (kind.kind === 'load') {
      this.counts.loadLines += 1;
      this.deps.onLoad?.(kind.evidence, kind.atMs ?? nowMs);
    } else if (kind.kind === 'malformed') this.counts.malformed += 1;
    else this.counts.ignored += 1;
    return kind;
  }

  /** Notes a probe sent at `sentAtMs`, so its log line is not counted twice. */
  probeSent(sentAtMs: number): void {
    this.pending.push({ sentAtMs, endAtMs: null });
  }

  /** Notes that the probe sent at `sentAtMs` finished at `endAtMs`. */
  probeDone(sentAtMs: number, endAtMs: number): void {
    const probe = this.pending.find((p) => p.sentAtMs === sentAtMs);
    if (probe) probe.endAtMs = endAtMs;
  }

  /** SLI events for intervals that are complete at `nowMs`. */
  flush(nowMs: number): SliEvent[] {
    this.dropStaleProbes(nowMs);
    return this.aggregator.flush(nowMs);
  }

  /** SLI events for every interval, complete or not (on stop). */
  flushAll(nowMs: number): SliEvent[] {
    return this.aggregator.flushAll(nowMs);
  }

  /** Line counts since start. */
  stats(): RequestLogStats {
    return { ...this.counts, late: this.aggregator.stats().late };
  }

  private request(
    request: GinRequest,
    verdict: RequestVerdict,
    nowMs: number,
  ): void {
    if (verdict === 'excluded') this.counts.excluded += 1;
    else if (verdict === 'client_error') this.counts.clientErrors += 1;
    else if (this.isOwnProbe(request)) this.counts.ownProbes += 1;
    else {
      const failed = verdict === 'failed';
      this.counts.counted += 1;
      if (failed) this.counts.failed += 1;
      const { completedAtMs: atMs, latencyMs } = request;
      this.aggregator.add({ atMs, failed, latencyMs }, nowMs);
      this.deps.onRequest?.(request, failed);
    }
  }

  private isOwnProbe(request: GinRequest): boolean {
    if (request.path !== '/api/generate' || !LOOPBACK.has(request.clientIp)) {
      return false;
    }
    const at = request.completedAtMs;
    const index = this.pending.findIndex(
      (p) =>
        at >= p.sentAtMs - PROBE_SLACK_MS &&
        (p.endAtMs === null || at <= p.endAtMs + PROBE_SLACK_MS),
    );
    if (index === -1) return false;
    this.pending.splice(index, 1);
    return true;
  }

  private dropStaleProbes(nowMs: number): void {
    const keepFromMs = nowMs - 10 * 60_000;
    while (
      this.pending.length > 0 &&
      (this.pending[0]?.sentAtMs ?? 0) < keepFromMs
    ) {
      this.pending.shift();
    }
  }
}
