/**
 * Ollama's HTTP answers read into gpuwarden's terms (research/ollama.md
 * §1). Pure: text in, values out. Fields Ollama leaves out because they
 * are zero (`omitempty`) read as 0 where 0 is what they mean.
 */

/** A model `/api/ps` lists as loaded. */
export interface RunningModel {
  name: string;
  /** Memory of the loaded instance, GPU and system RAM together. */
  sizeBytes: number;
  /** The part of `sizeBytes` in VRAM, summed over all GPUs. */
  sizeVramBytes: number;
  /** When the idle timer unloads it, epoch ms; `null` when unreadable. */
  expiresAtMs: number | null;
  /** True when `expires_at` is over 20 years out (`keep_alive` < 0). */
  pinned: boolean;
  /** Context allocated for this instance (v0.10+); `null` when absent. */
  contextLength: number | null;
  digest: string | null;
}

/** A model `/api/tags` lists as pulled. */
export interface PulledModel {
  name: string;
  /** On-disk size of the weights, not the runtime footprint. */
  sizeBytes: number;
  digest: string | null;
  /** Cloud models (`remote_host`) use no local VRAM. */
  remote: boolean;
}

/** The final object of a non-streaming `/api/generate` or `/api/chat`. */
export interface GenerateResult {
  doneReason: string | null;
  totalDurationMs: number;
  loadDurationMs: number;
  promptEvalCount: number;
  evalCount: number;
  evalDurationMs: number;
}

const PINNED_AFTER_MS = 20 * 365.25 * 86_400_000;
const NS_PER_MS = 1e6;

/** Reads `/api/version`; `null` when the body is not `{"version": "…"}`. */
export function parseVersion(body: unknown): string | null {
  const version = (body as { version?: unknown } | null)?.version;
  return typeof version === 'string' && version !== '' ? version : null;
}

/**
 * Reads `/api/ps` at `nowMs`; `null` when the body is not a model list.
 * Entries without a name or size are skipped.
 */
export function parsePs(body: unknown, nowMs: number): RunningModel[] | null {
  const models = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return null;
  return models.flatMap((raw: unknown) => {
    const m = (raw ?? {}) as Record<string, unknown>;
    const name = str(m.name) ?? str(m.model);
    if (name === null || typeof m.size !== 'number') return [];
    const expires = typeof m.expires_at === 'string' ? m.expires_at : '';
    const parsed = Date.parse(expires);
    const expiresAtMs = Number.isFinite(parsed) ? parsed : null;
    return [
      {
        name,
        sizeBytes: m.size,
        sizeVramBytes: typeof m.size_vram === 'number' ? m.size_vram : 0,
        expiresAtMs,
        pinned: expiresAtMs !== null && expiresAtMs - nowMs > PINNED_AFTER_MS,
        contextLength: numOrNull(m.context_length),
        digest: str(m.digest),
      },
    ];
  });
}

/** Reads `/api/tags`; `null` when the body is not a model list. */
export function parseTags(body: unknown): PulledModel[] | null {
  const models = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return null;
  return models.flatMap((raw: unknown) => {
    const m = (raw ?? {}) as Record<string, unknown>;
    const name = str(m.name) ?? str(m.model);
    if (name === null) return [];
    const sizeBytes = typeof m.size === 'number' ? m.size : 0;
    const remote = str(m.remote_host) !== null;
    return [{ name, sizeBytes, digest: str(m.digest), remote }];
  });
}

/** Reads a generate or chat final object; `null` unless `done` is true. */
export function parseGenerate(body: unknown): GenerateResult | null {
  const m = (body ?? {}) as Record<string, unknown>;
  if (m.done !== true) return null;
  const ms = (value: unknown): number => (numOrNull(value) ?? 0) / NS_PER_MS;
  return {
    doneReason: str(m.done_reason),
    totalDurationMs: ms(m.total_duration),
    loadDurationMs: ms(m.load_duration),
    promptEvalCount: numOrNull(m.prompt_eval_count) ?? 0,
    evalCount: numOrNull(m.eval_count) ?? 0,
    evalDurationMs: ms(m.eval_duration),
  };
}

/**
 * Finds the watched model in a `/api/ps` list: by exact name, or with the
 * `:latest` tag implied; with `model` null, the first (latest-expiring)
 * entry. `null` when it is not loaded.
 */
export function findRunningModel(
  models: readonly RunningModel[],
  model: string | null,
): RunningModel | null {
  if (model === null) return models[0] ?? null;
  const wanted = withTag(model);
  return models.find((m) => withTag(m.name) === wanted) ?? null;
}

function withTag(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function numOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
