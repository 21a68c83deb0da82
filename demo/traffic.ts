/**
 * The demo's users: a steady stream of generate requests to the simulated
 * Ollama, mostly short answers and one long one in twenty, as a group of
 * chat agents would send. It measures what the users feel.
 */

/** Latencies the users saw, in ms, with when each request ended. */
export interface TrafficSample {
  endedAtMs: number;
  latencyMs: number;
  ok: boolean;
}

/** A running traffic generator. */
export interface Traffic {
  stop(): Promise<void>;
  /** Requests that ended in the last `windowMs`. */
  recent(windowMs: number): TrafficSample[];
  served(): number;
}

const SHORT_TOKENS = 16;
const LONG_TOKENS = 320;
const LONG_EVERY = 20;

/** Sends `perSecond` requests a second to `url` until stopped. */
export function startTraffic(
  url: string,
  model: string,
  perSecond: number,
): Traffic {
  const samples: TrafficSample[] = [];
  const inFlight = new Set<Promise<void>>();
  let seq = 0;

  const send = (): void => {
    const tokens =
      seq++ % LONG_EVERY === LONG_EVERY - 1 ? LONG_TOKENS : SHORT_TOKENS;
    const started = Date.now();
    const request = fetch(`${url}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        prompt: 'Summarise the last build log.',
        stream: false,
        options: { num_predict: tokens },
      }),
      signal: AbortSignal.timeout(60_000),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        samples.push({
          endedAtMs: Date.now(),
          latencyMs: Date.now() - started,
          ok: res.ok,
        });
      })
      .catch(() => {
        samples.push({
          endedAtMs: Date.now(),
          latencyMs: Date.now() - started,
          ok: false,
        });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  const timer = setInterval(send, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
    recent(windowMs) {
      const since = Date.now() - windowMs;
      return samples.filter((s) => s.endedAtMs >= since);
    },
    served: () => samples.length,
  };
}

/** The `p`-quantile (0..1) of latencies, or null when there are none. */
export function quantileMs(samples: TrafficSample[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? null
  );
}
