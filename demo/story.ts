/**
 * Follows the demo through the collector's REST API and tells it as it
 * happens: contention, offload, latency, burn, the incident, the guard's
 * actions, recovery, resolution. Everything printed is read from the
 * running system, never assumed.
 */
import { formatBytes } from '../shared/src/units.ts';
import type { GuardEvent } from '../shared/src/messages.ts';
import type { Traffic } from './traffic.ts';
import { quantileMs } from './traffic.ts';

interface NodeJson {
  node: string;
  connected: boolean;
  snapshot: {
    gpus: {
      name: string | null;
      memory: { totalBytes: number | null };
      processes: {
        pid: number;
        name: string | null;
        usedBytes: number | null;
      }[];
    }[];
  } | null;
  ollama: {
    resident: boolean | null;
    model: string | null;
    sizeBytes: number | null;
    sizeVramBytes: number | null;
    offloadedBytes: number | null;
  } | null;
  guard: GuardEvent[];
}

interface SloJson {
  slo: string;
  dataState: string;
  burnRates: Record<string, number | null>;
}

/** An incident as the API returns it. */
export interface IncidentJson {
  id: string;
  title: string;
  severity: string;
  status: string;
  trigger: { rule: string; burnRate: number; window: string } | null;
  openedAt: string;
  resolvedAt: string | null;
  durationSeconds: number | null;
  rootCause: string | null;
}

/** What the story saw, for the summary. */
export interface DemoOutcome {
  incident: IncidentJson;
  postmortem: string;
  /** Seconds from the tunnel taking VRAM to each step; null if not seen. */
  timings: {
    offloadSeconds: number | null;
    incidentOpenedSeconds: number | null;
    sigtermSeconds: number | null;
    freedSeconds: number | null;
    recoveredSeconds: number | null;
    resolvedSeconds: number | null;
  };
  guardEvents: { kind: string; pid: number | null; message: string }[];
}

const POLL_MS = 1000;

/** Watches and narrates one run. */
export class Story {
  private readonly startMs = Date.now();
  private contentionMs = 0;
  private readonly seenGuard = new Set<string>();
  private readonly guardEvents: DemoOutcome['guardEvents'] = [];
  private readonly marks = new Map<string, number>();
  private reportedSeverity: string | null = null;

  constructor(
    private readonly deps: {
      webUrl: string;
      traffic: Traffic;
      print: (line: string) => void;
    },
  ) {}

  /** Waits until the node is healthy and traffic has flowed `minMs`. */
  async waitHealthy(minMs: number): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const [node, slo] = await Promise.all([this.node(), this.slo()]);
      const ready =
        node?.connected &&
        node.snapshot &&
        node.ollama?.resident &&
        slo?.dataState === 'ok';
      if (ready && Date.now() - this.startMs >= minMs) {
        this.describeHealthy(node);
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the simulated host did not become healthy within 90 s (node ${node ? 'seen' : 'not seen'}, SLO ${slo?.dataState ?? 'no data'}); see the logs in the demo folder`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  /** Marks the moment the tunnel took its VRAM. */
  contentionStarted(pid: number, bytes: number): void {
    this.contentionMs = Date.now();
    this.say(
      `code-tunnel (pid ${pid}) starts and takes ${formatBytes(bytes)} on GPU 0`,
    );
  }

  /** Narrates until the incident resolves; returns what happened. */
  async followUntilResolved(timeoutMs: number): Promise<DemoOutcome> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [node, slo, incident] = await Promise.all([
        this.node(),
        this.slo(),
        this.incident(),
      ]);
      this.watchNode(node);
      this.watchLatency();
      this.watchBurn(slo);
      if (incident) this.watchIncident(incident);
      if (
        incident &&
        (incident.status === 'resolved' || incident.status === 'closed')
      ) {
        return this.finish(incident);
      }
      await sleep(POLL_MS);
    }
    throw new Error(
      `the incident did not open and resolve within ${timeoutMs / 60_000} minutes; see the logs in the demo folder`,
    );
  }

  private describeHealthy(node: NodeJson): void {
    const gpu = node.snapshot?.gpus[0];
    const o = node.ollama;
    const latency = quantileMs(this.deps.traffic.recent(10_000), 0.5);
    this.say(
      `jasper is healthy: ${gpu?.name ?? 'GPU'} with ${formatBytes(gpu?.memory.totalBytes ?? null)}, Ollama serving ${o?.model} fully on the GPU (${formatBytes(o?.sizeVramBytes ?? null)}), latency p50 ${latency ?? 'n/a'} ms`,
    );
  }

  private watchNode(node: NodeJson | null): void {
    if (!node) return;
    const o = node.ollama;
    if (o && (o.offloadedBytes ?? 0) > 0 && this.once('offload')) {
      this.say(
        `Ollama: ${o.model} is partly on the CPU now (${formatBytes(o.sizeVramBytes)} of ${formatBytes(o.sizeBytes)} on the GPU)`,
      );
    }
    for (const event of node.guard) this.watchGuard(event);
    const freed = this.marks.has('freed');
    if (
      freed &&
      o?.resident &&
      (o.offloadedBytes ?? 0) === 0 &&
      this.once('back-on-gpu')
    ) {
      this.say(`Ollama: ${o.model} is back fully on the GPU`);
    }
  }

  private watchGuard(event: GuardEvent): void {
    const key = `${event.atMs}:${event.kind}:${event.process?.pid ?? ''}`;
    if (this.seenGuard.has(key) || event.atMs < this.contentionMs) return;
    this.seenGuard.add(key);
    this.guardEvents.push({
      kind: event.kind,
      pid: event.process?.pid ?? null,
      message: event.message,
    });
    if (event.kind === 'signal' && event.signal === 'SIGTERM')
      this.once('sigterm');
    if (event.kind === 'freed') this.once('freed');
    if (
      [
        'breach',
        'warning',
        'plan',
        'signal',
        'kill',
        'freed',
        'abort',
        'infeasible',
        'recovered',
      ].includes(event.kind)
    ) {
      this.say(`guard: ${event.message}`);
    }
  }

  private watchLatency(): void {
    const recent = this.deps.traffic.recent(10_000);
    const p95 = quantileMs(recent, 0.95);
    const p50 = quantileMs(recent, 0.5);
    const slow = recent.filter((s) => !s.ok || s.latencyMs > 2000).length;
    if (
      p95 !== null &&
      p95 > 2000 &&
      !this.marks.has('freed') &&
      this.once('latency-bad')
    ) {
      this.say(
        `latency: p95 ${(p95 / 1000).toFixed(1)} s, ${Math.round((100 * slow) / recent.length)}% of requests over 2 s`,
      );
    }
    const healthy =
      p95 !== null && p95 <= 2000 && p50 !== null && p50 < 500 && slow === 0;
    if (this.marks.has('back-on-gpu') && healthy && this.once('recovered')) {
      this.say(
        `latency is back: p50 ${p50} ms, p95 ${p95} ms, no request over 2 s in the last 10 s`,
      );
    }
  }

  private watchBurn(slo: SloJson | null): void {
    if (!slo) return;
    const entries = Object.entries(slo.burnRates).filter(
      ([, v]) => v !== null,
    ) as [string, number][];
    const hot = entries.find(
      ([window, burn]) => burn >= 3 && window === 'rolling_2m',
    );
    if (hot && this.once('burn')) {
      this.say(
        `SLO ollama_availability burns its error budget at ${hot[1].toFixed(1)}x over ${hot[0]}`,
      );
    }
  }

  private watchIncident(incident: IncidentJson): void {
    if (this.once('opened')) {
      const t = incident.trigger;
      this.say(
        `incident ${incident.id} opened: ${incident.severity} ${t ? `${t.rule} (${t.burnRate.toFixed(1)}x in ${t.window})` : ''} - ${incident.title}`,
      );
      this.reportedSeverity = incident.severity;
    } else if (incident.severity !== this.reportedSeverity) {
      this.say(`incident ${incident.id} raised to ${incident.severity}`);
      this.reportedSeverity = incident.severity;
    }
  }

  private async finish(incident: IncidentJson): Promise<DemoOutcome> {
    this.once('resolved');
    this.say(
      `incident ${incident.id} resolved at ${incident.resolvedAt} after ${incident.durationSeconds} s of impact`,
    );
    const res = await fetch(
      `${this.deps.webUrl}/api/incidents/${incident.id}/postmortem.md`,
    );
    const postmortem = res.ok ? await res.text() : '';
    const seconds = (mark: string): number | null => {
      const at = this.marks.get(mark);
      return at === undefined
        ? null
        : Math.round((at - this.contentionMs) / 100) / 10;
    };
    return {
      incident,
      postmortem,
      timings: {
        offloadSeconds: seconds('offload'),
        incidentOpenedSeconds: seconds('opened'),
        sigtermSeconds: seconds('sigterm'),
        freedSeconds: seconds('freed'),
        recoveredSeconds: seconds('recovered'),
        resolvedSeconds: seconds('resolved'),
      },
      guardEvents: this.guardEvents,
    };
  }

  /** True the first time `mark` is seen; remembers when. */
  private once(mark: string): boolean {
    if (this.marks.has(mark)) return false;
    this.marks.set(mark, Date.now());
    return true;
  }

  private say(text: string): void {
    const base = this.contentionMs || this.startMs;
    const seconds = Math.round((Date.now() - base) / 1000);
    const stamp = this.contentionMs
      ? `T+${String(seconds).padStart(3)}s`
      : `     ${String(seconds).padStart(3)}s`;
    this.deps.print(`${stamp}  ${text}`);
  }

  private async node(): Promise<NodeJson | null> {
    const body = (await getJson(`${this.deps.webUrl}/api/nodes`)) as {
      nodes?: NodeJson[];
    } | null;
    return body?.nodes?.find((n) => n.node === 'jasper') ?? null;
  }

  private async slo(): Promise<SloJson | null> {
    const body = (await getJson(`${this.deps.webUrl}/api/slos`)) as {
      slos?: SloJson[];
    } | null;
    return body?.slos?.[0] ?? null;
  }

  private async incident(): Promise<IncidentJson | null> {
    const body = (await getJson(`${this.deps.webUrl}/api/incidents`)) as {
      incidents?: IncidentJson[];
    } | null;
    const list = body?.incidents ?? [];
    return (
      list.find((i) => Date.parse(i.openedAt) >= this.contentionMs - 60_000) ??
      null
    );
  }
}

async function getJson(url: string): Promise<unknown> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.json() : null;
  } catch {
    // The collector may be busy for a moment; the next poll asks again.
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
