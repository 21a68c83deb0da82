/**
 * Harm signals: evidence that a reservation breach is hurting the protected
 * workload. The guard kills only for a breach held past its grace period
 * *with* harm. Each signal is `null` when nothing could tell.
 */

/** What the Ollama monitor (or another workload monitor) reports. */
export interface HarmSignals {
  /** The latency SLI is over its threshold in the recent window. */
  latencyBreached: boolean | null;
  /** The watched model is partly in system RAM (offloaded to CPU). */
  modelPartlyOnCpu: boolean | null;
  /** The watched model is not loaded while requests are arriving. */
  modelNotResidentWhileRequestsWait: boolean | null;
  /** A model load failed recently (out of memory, allocation failure). */
  recentLoadFailure: boolean | null;
  /** Plain-words evidence for events and the audit log. */
  evidence: string[];
}

/** No evidence either way. */
export const NO_HARM_EVIDENCE: HarmSignals = {
  latencyBreached: null,
  modelPartlyOnCpu: null,
  modelNotResidentWhileRequestsWait: null,
  recentLoadFailure: null,
  evidence: [],
};

/** True when at least one signal says the workload is being harmed. */
export function isHarmed(signals: HarmSignals): boolean {
  return (
    signals.latencyBreached === true ||
    signals.modelPartlyOnCpu === true ||
    signals.modelNotResidentWhileRequestsWait === true ||
    signals.recentLoadFailure === true
  );
}
