/**
 * The VRAM reservation guard: policy, planner, enforcer, runtime.
 */
export { AuditLog, formatAuditLine } from './audit.ts';
export type { AuditRecord } from './audit.ts';
export { checkReport, renderCheck } from './check-report.ts';
export type { CheckGpu, CheckProcess, CheckReport } from './check-report.ts';
export { Enforcer } from './enforcer.ts';
export type {
  EnforceStep,
  EnforcerDeps,
  EnforcerOptions,
  StepOutcome,
  StepResult,
} from './enforcer.ts';
export { Guard } from './guard.ts';
export type { GuardInput, GuardOptions } from './guard.ts';
export {
  DEFAULT_OLLAMA_EXE_PREFIXES,
  DEFAULT_OLLAMA_NAMES,
  GUARD_MODES,
  parseGuardConfig,
  reservationGpuKey,
} from './guard-config.ts';
export type {
  EligibleVictims,
  GuardConfig,
  GuardMode,
  HarmPolicy,
  HookConfig,
  ProtectMatcher,
  Reservation,
} from './guard-config.ts';
export { NO_HARM_EVIDENCE, isHarmed } from './harm.ts';
export type { HarmSignals } from './harm.ts';
export { createHookNotifier } from './notify.ts';
export type { HookDeps, Notifier } from './notify.ts';
export { policyHash, summarizePolicy } from './policy.ts';
export { createIdentityReader } from './identity-reader.ts';
export type { IdentityReader } from './identity-reader.ts';
export { createSignaller } from './signaller.ts';
export type { KillSignal, Signaller } from './signaller.ts';
export { createGuardRuntime, effectiveMode } from './runtime.ts';
export type { GuardRuntime } from './runtime.ts';
export type { GuardRuntimeDeps } from './runtime-deps.ts';
export { NEVER_KILL_REASONS } from './types.ts';
export type {
  AncestorInfo,
  Candidate,
  Exclusion,
  ExclusionReason,
  GpuDecision,
  GuardState,
  ProcessIdentity,
  ReservationMath,
  Verdict,
  VictimPlan,
  WorkloadState,
} from './types.ts';
