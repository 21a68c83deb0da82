/**
 * The `slos:` section of the collector config: which SLOs to evaluate,
 * their SLI, target, period, bucket width and alert rules. Targets and
 * multiples are kept as exact scaled integers (see `decimal.ts`).
 */
import type { ConfigNode } from '../../../shared/src/config.ts';
import { LATENCY_BOUNDS_MS } from '../../../shared/src/messages.ts';
import { formatDurationShort } from '../../../shared/src/units.ts';
import type { Severity } from './alert-state.ts';
import { MICROS, PPM, parseScaledDecimal } from './decimal.ts';

/** Most buckets one series may hold (period ÷ bucket width). */
export const MAX_BUCKETS_PER_SERIES = 1_000_000;

const SEVERITIES: readonly Severity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const EVENT_SOURCES = ['all', 'requests', 'probe'] as const;
const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** One multiwindow rule: both windows must burn at least the threshold. */
export interface AlertRuleDefinition {
  /** Rule name, e.g. `slo_high_burn`. */
  name: string;
  severity: Severity;
  /** Burn-rate multiple in millionths: 14.4 → 14 400 000. */
  thresholdMicros: number;
  longWindowMs: number;
  shortWindowMs: number;
  /** Window names derived from the durations, e.g. `rolling_1h`. */
  longWindow: string;
  shortWindow: string;
}

/** One SLO over the protected workload's requests. */
export interface SloDefinition {
  /** e.g. `ollama_availability`; also a file name, so `[a-z0-9_]`. */
  name: string;
  /** The workload whose SLI events count, e.g. `ollama`. */
  workload: string;
  /** Which SLI events count: real requests, synthetic probes or both. */
  events: (typeof EVENT_SOURCES)[number];
  /** A request is good when it succeeded within this (inclusive). */
  latencyThresholdMs: number;
  /** The target as written, for display: 99.5. */
  targetPercent: number;
  /** The target in parts per million: 99.5 % → 995 000. */
  targetPpm: number;
  periodMs: number;
  /** Width of one good/total bucket; every window is a multiple of it. */
  bucketWidthMs: number;
  /** The node is `no_data` after this long without any message. */
  noDataAfterMs: number;
  /** Rules, most severe first is not required; order breaks ties. */
  rules: AlertRuleDefinition[];
}

/** The parsed `slos:` section. */
export interface SloConfig {
  slos: SloDefinition[];
}

/** The window name for a duration: 1 h → `rolling_1h`. */
export function windowName(durationMs: number): string {
  return `rolling_${formatDurationShort(durationMs)}`;
}

/** DESIGN §3.4's rules: critical 14.4× 1h/5m, high 3× 1h/5m, slow 1× 6h/30m. */
export function defaultRules(): AlertRuleDefinition[] {
  return [
    rule('slo_critical_burn', 'SEV1', 14_400_000, 3_600_000, 300_000),
    rule('slo_high_burn', 'SEV2', 3_000_000, 3_600_000, 300_000),
    rule('slo_slow_burn', 'SEV3', 1_000_000, 21_600_000, 1_800_000),
  ];
}

/** `ollama_availability`: good = succeeded within 2 s; 99.5 % over 30 d. */
export function defaultSlo(): SloDefinition {
  return {
    name: 'ollama_availability',
    workload: 'ollama',
    events: 'all',
    latencyThresholdMs: 2000,
    targetPercent: 99.5,
    targetPpm: 995_000,
    periodMs: 30 * 86_400_000,
    bucketWidthMs: 60_000,
    noDataAfterMs: 60_000,
    rules: defaultRules(),
  };
}

/**
 * Reads `slos:` from the collector config's root. Absent → the default
 * SLO; an empty list → no SLOs. Throws a ConfigError naming the field.
 */
export function parseSloConfig(root: ConfigNode): SloConfig {
  if (!root.has('slos')) {
    root.raw('slos');
    return { slos: [defaultSlo()] };
  }
  const slos = root.children('slos').map(parseSlo);
  const seen = new Set<string>();
  slos.forEach((slo, i) => {
    if (seen.has(slo.name)) {
      root.fail(`slos[${i}].name`, 'must be unique among the SLOs', slo.name);
    }
    seen.add(slo.name);
  });
  return { slos };
}

function parseSlo(node: ConfigNode): SloDefinition {
  const fallback = defaultSlo();
  const name = node.string('name');
  if (!NAME_PATTERN.test(name)) {
    node.fail('name', 'must be lowercase letters, digits and _', name);
  }
  const bucketWidthMs = node.durationMs('bucketWidth', '1m', { minMs: 1000 });
  const slo: SloDefinition = {
    name,
    workload: node.oneOf('source', ['ollama'], 'ollama'),
    events: node.oneOf('events', EVENT_SOURCES, 'all'),
    latencyThresholdMs: parseLatency(node),
    ...parseTarget(node),
    periodMs: node.durationMs('period', '30d'),
    bucketWidthMs,
    noDataAfterMs: node.durationMs('noDataAfter', '1m', { minMs: 1000 }),
    rules: node.has('rules')
      ? parseRules(node)
      : (node.raw('rules'), fallback.rules),
  };
  checkWindows(node, slo);
  node.done();
  return slo;
}

function parseLatency(node: ConfigNode): number {
  const thresholdMs = node.durationMs('latencyThreshold', '2s');
  if (!LATENCY_BOUNDS_MS.includes(thresholdMs)) {
    const bounds = LATENCY_BOUNDS_MS.map(formatDurationShort).join(', ');
    node.fail(
      'latencyThreshold',
      `must be one of the agent's latency bucket bounds (${bounds}) so good requests are counted exactly`,
      node.raw('latencyThreshold'),
    );
  }
  return thresholdMs;
}

function parseTarget(node: ConfigNode): {
  targetPercent: number;
  targetPpm: number;
} {
  const raw = node.raw('targetPercent') ?? 99.5;
  const text = typeof raw === 'string' ? raw.replace(/\s*%$/, '') : raw;
  const targetPpm = parseScaledDecimal(text, 4);
  if (targetPpm === null) {
    node.fail(
      'targetPercent',
      'must be a percent with at most 4 decimal places, like 99.5',
      raw,
    );
  }
  if (targetPpm <= 0) {
    node.fail('targetPercent', 'must be above 0 %', raw);
  }
  if (targetPpm >= 100 * 10_000) {
    node.fail(
      'targetPercent',
      'must be below 100 (a 100 % target leaves no error budget to burn)',
      raw,
    );
  }
  if (targetPpm <= 10_000) {
    node.fail(
      'targetPercent',
      'is a percent, not a fraction: write 99.5 for 99.5 %',
      raw,
    );
  }
  return { targetPercent: targetPpm / 10_000, targetPpm };
}

function parseRules(node: ConfigNode): AlertRuleDefinition[] {
  const rules = node.children('rules').map((item) => parseRule(item));
  if (rules.length === 0) {
    node.fail('rules', 'must list at least one rule', []);
  }
  const names = new Set<string>();
  rules.forEach((r, i) => {
    if (names.has(r.name)) {
      node.fail(`rules[${i}].name`, 'must be unique in this SLO', r.name);
    }
    names.add(r.name);
  });
  return rules;
}

function parseRule(node: ConfigNode): AlertRuleDefinition {
  const name = node.string('name');
  if (!NAME_PATTERN.test(name)) {
    node.fail('name', 'must be lowercase letters, digits and _', name);
  }
  const severity = node.oneOf('severity', SEVERITIES);
  const rawBurn = node.raw('burnRate');
  const thresholdMicros = parseScaledDecimal(rawBurn, 6);
  if (thresholdMicros === null || thresholdMicros <= 0) {
    node.fail(
      'burnRate',
      'must be a positive multiple with at most 6 decimal places, like 14.4',
      rawBurn,
    );
  }
  const longWindowMs = node.durationMs('longWindow', undefined, {
    minMs: 1000,
  });
  const shortWindowMs = node.durationMs('shortWindow', undefined, {
    minMs: 1000,
  });
  if (shortWindowMs >= longWindowMs) {
    node.fail(
      'shortWindow',
      `must be shorter than longWindow (${formatDurationShort(longWindowMs)})`,
      node.raw('shortWindow'),
    );
  }
  node.done();
  return rule(name, severity, thresholdMicros, longWindowMs, shortWindowMs);
}

function checkWindows(node: ConfigNode, slo: SloDefinition): void {
  const longestMs = Math.max(...slo.rules.map((r) => r.longWindowMs));
  for (const r of slo.rules) {
    for (const windowMs of [r.shortWindowMs, r.longWindowMs]) {
      if (windowMs % slo.bucketWidthMs !== 0) {
        node.fail(
          'bucketWidth',
          `must divide every rule window (${r.name} uses ${formatDurationShort(windowMs)})`,
          formatDurationShort(slo.bucketWidthMs),
        );
      }
    }
  }
  checkMultiple(node, 'period', slo.periodMs, slo.bucketWidthMs);
  if (slo.periodMs < longestMs) {
    node.fail(
      'period',
      `must be at least the longest rule window (${formatDurationShort(longestMs)})`,
      node.raw('period') ?? '30d',
    );
  }
  if (slo.periodMs / slo.bucketWidthMs > MAX_BUCKETS_PER_SERIES) {
    node.fail(
      'bucketWidth',
      `must be at least period / ${MAX_BUCKETS_PER_SERIES} (keeps memory bounded); widen it or shorten the period`,
      node.raw('bucketWidth') ?? '1m',
    );
  }
}

function checkMultiple(
  node: ConfigNode,
  field: string,
  durationMs: number,
  bucketWidthMs: number,
): void {
  if (durationMs % bucketWidthMs !== 0) {
    node.fail(
      field,
      `must be a whole number of buckets (bucketWidth ${formatDurationShort(bucketWidthMs)})`,
      formatDurationShort(durationMs),
    );
  }
}

function rule(
  name: string,
  severity: Severity,
  thresholdMicros: number,
  longWindowMs: number,
  shortWindowMs: number,
): AlertRuleDefinition {
  return {
    name,
    severity,
    thresholdMicros,
    longWindowMs,
    shortWindowMs,
    longWindow: windowName(longWindowMs),
    shortWindow: windowName(shortWindowMs),
  };
}

/** The error budget of an SLO in parts per million (99.5 % → 5 000). */
export function budgetPpm(slo: SloDefinition): number {
  return PPM - slo.targetPpm;
}

/** A rule's threshold as a plain number, for display: 14.4. */
export function thresholdOf(rule: AlertRuleDefinition): number {
  return rule.thresholdMicros / MICROS;
}
