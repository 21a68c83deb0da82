/**
 * The policy's fingerprint and summary: the hash written in every audit
 * line and the summary sent in the hello message.
 */
import { createHash } from 'node:crypto';
import type { PolicySummary } from '../../../shared/src/messages.ts';
import type { GuardConfig } from './guard-config.ts';
import { reservationGpuKey } from './guard-config.ts';

/** SHA-256 (hex) of the effective guard policy, keys sorted. */
export function policyHash(config: GuardConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** The policy in force, for the hello message. */
export function summarizePolicy(config: GuardConfig): PolicySummary {
  return {
    mode: config.mode,
    policyHash: policyHash(config),
    reservations: config.reservations.map((r) => ({
      gpu: reservationGpuKey(r),
      reservedBytes: r.reservedBytes,
      workload: r.workload,
    })),
  };
}

/** JSON with object keys sorted at every level, so equal policies hash equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
