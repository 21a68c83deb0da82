/**
 * Which harm signals count, per the policy's `harm` section. Pure.
 */
import type { HarmSignals } from './harm.ts';
import type { HarmPolicy } from './guard-config.ts';

/** The signals that are on in the policy and say "harmed", as labels. */
export function harmLabels(signals: HarmSignals, policy: HarmPolicy): string[] {
  const labels: string[] = [];
  if (policy.latency && signals.latencyBreached === true) {
    labels.push('latency_breached');
  }
  if (policy.offload && signals.modelPartlyOnCpu === true) {
    labels.push('model_partly_on_cpu');
  }
  if (
    policy.notResident &&
    signals.modelNotResidentWhileRequestsWait === true
  ) {
    labels.push('model_not_resident_while_requests_wait');
  }
  if (policy.loadFailure && signals.recentLoadFailure === true) {
    labels.push('recent_load_failure');
  }
  return labels;
}
