/**
 * The guard at run time: for each new snapshot and harm signals, plan, then
 * warn or enforce according to the mode (and the kill-switch file), emit
 * every decision as a guard event, write it to the audit log and tell
 * people through the hook. Enforcement runs one plan at a time in the
 * background; snapshots that arrive meanwhile are not evaluated.
 */
import type {
  GuardEvent,
  GuardEventKind,
  PolicySummary,
} from '../../../shared/src/messages.ts';
import type { Snapshot } from '../../../shared/src/snapshot.ts';
import { AuditLog } from './audit.ts';
import {
  blockersOf,
  breakerMessage,
  guardEvent,
  infeasibleMessage,
  offloadMessage,
  planDetails,
  planMessage,
  warningMessage,
} from './events.ts';
import type { EventExtra, PlanAction } from './events.ts';
import { Guard } from './guard.ts';
import type { GuardConfig, GuardMode } from './guard-config.ts';
import type { HarmSignals } from './harm.ts';
import { policyHash, summarizePolicy } from './policy.ts';
import { runPlan } from './run-plan.ts';
import type { GuardRuntimeDeps } from './runtime-deps.ts';
import type { AncestorInfo, GpuDecision, WorkloadState } from './types.ts';

/** The guard as the agent runs it. */
export interface GuardRuntime {
  /** Evaluates one sample; resolves once its events are emitted. */
  onSample(
    snapshot: Snapshot,
    harm: HarmSignals,
    workload?: WorkloadState | null,
  ): Promise<GpuDecision[]>;
  /** Resolves when no plan is being enforced and the audit is written. */
  whenIdle(): Promise<void>;
  /** The policy in force, for the hello message. */
  summary(): PolicySummary;
}

/** Hook-worthy kinds: what people should hear about. */
const NOTIFY_KINDS: ReadonlySet<GuardEventKind> = new Set([
  'warning',
  'infeasible',
  'breaker',
  'kill',
  'freed',
  'abort',
  'offload_persists',
  'reload',
]);

/** Kinds logged at warn: degraded, or acting on someone's process. */
const LOUD_KINDS: ReadonlySet<GuardEventKind> = new Set([
  'breach',
  'warning',
  'infeasible',
  'breaker',
  'signal',
  'kill',
  'abort',
  'offload_persists',
]);

/** Wires a {@link Guard} to the enforcer, events, audit and hook. */
export function createGuardRuntime(
  config: GuardConfig,
  deps: GuardRuntimeDeps,
): GuardRuntime {
  const guard = new Guard(config, { self: deps.self });
  const hash = policyHash(config);
  const log = deps.logger.child({ component: 'guard' });
  const audit = deps.auditFile
    ? new AuditLog({ file: deps.auditFile, node: deps.node }, deps)
    : null;
  let running: Promise<void> | null = null;
  let lastHarm: HarmSignals | null = null;

  const publish = (
    kind: GuardEventKind,
    d: GpuDecision,
    mode: GuardMode,
    extra: EventExtra,
  ): GuardEvent => {
    const atMs = deps.clock.nowMs();
    const event = guardEvent(kind, d, { mode, policyHash: hash, atMs }, extra);
    const level = LOUD_KINDS.has(kind) ? 'warn' : 'info';
    log[level](
      { kind, gpuUuid: d.gpuUuid, pid: event.process?.pid },
      'guard event',
    );
    deps.emit(event);
    // The audit log serialises and reports its own failures.
    if (audit) void audit.append(event);
    if (deps.notify && mode !== 'observe' && NOTIFY_KINDS.has(kind)) {
      // The hook bounds itself with a timeout and logs its failures.
      void deps.notify(event);
    }
    return event;
  };

  const handle = (d: GpuDecision, mode: GuardMode) => {
    const enforcing = mode === 'enforce' || mode === 'enforce-term';
    const acting = enforcing && d.verdict === 'kill' && running === null;
    announceTransitions(d, mode, publish);
    // Every plan that is acted on is audited, even a repeat of the last.
    if (d.notify || acting) announceVerdict(d, mode, config, publish);
    if (d.offloadPersists) afterRestore(d, mode, config, deps, publish);
    if (acting) {
      const harm = lastHarm;
      running = runPlan(d, mode, {
        config,
        deps,
        guard,
        harm: () => harm,
        publish,
      }).finally(() => {
        running = null;
      });
    }
  };

  return {
    async onSample(snapshot, harm, workload = null) {
      if (running !== null) return [];
      lastHarm = harm;
      const ancestry = await readAncestries(snapshot, config, deps);
      const killSwitch = await deps.fs.exists(config.killSwitchFile);
      const nowMs = deps.clock.nowMs();
      const decisions = guard.evaluate({
        snapshot,
        harm,
        workload,
        nowMs,
        ancestry,
      });
      for (const d of decisions) handle(d, effectiveMode(d, killSwitch));
      return decisions;
    },
    async whenIdle() {
      while (running !== null) await running;
      await audit?.flush();
    },
    summary: () => summarizePolicy(config),
  };
}

/** The mode in force on a GPU: the kill-switch file forces `warn`. */
export function effectiveMode(d: GpuDecision, killSwitch: boolean): GuardMode {
  const mode = d.reservation.mode;
  const enforcing = mode === 'enforce' || mode === 'enforce-term';
  return killSwitch && enforcing ? 'warn' : mode;
}

type Publish = (
  kind: GuardEventKind,
  d: GpuDecision,
  mode: GuardMode,
  extra: EventExtra,
) => GuardEvent;

function announceTransitions(
  d: GpuDecision,
  mode: GuardMode,
  publish: Publish,
) {
  const wasBreached =
    d.previousState === 'soft_breach' || d.previousState === 'hard_breach';
  const isBreached = d.state === 'soft_breach' || d.state === 'hard_breach';
  if (isBreached && d.previousState === 'ok') {
    publish('breach', d, mode, {
      message: `GPU ${d.gpuIndex}: the ${d.reservation.workload} reservation is breached`,
      details: planDetails(d),
    });
  }
  if (wasBreached && d.state === 'recovering') {
    const heldMs = d.atMs - (d.breachSinceMs ?? d.atMs);
    publish('recovered', d, mode, {
      message: `GPU ${d.gpuIndex}: the ${d.reservation.workload} reservation is met again`,
      details: {
        breachMs: heldMs,
        transient: d.previousState === 'soft_breach',
      },
    });
  }
}

function announceVerdict(
  d: GpuDecision,
  mode: GuardMode,
  config: GuardConfig,
  publish: Publish,
) {
  if (d.verdict === 'infeasible') {
    publish('infeasible', d, mode, {
      message: infeasibleMessage(d),
      process: blockersOf(d.excluded)[0]?.process ?? null,
      details: planDetails(d),
    });
    return;
  }
  if (d.verdict === 'breaker') {
    publish('breaker', d, mode, {
      message: breakerMessage(d),
      details: planDetails(d),
    });
    return;
  }
  if (d.verdict !== 'warn' && d.verdict !== 'kill') return;

  const action = planAction(d, mode);
  publish('plan', d, mode, {
    message: planMessage(d, action),
    details: { ...planDetails(d), action, holdReason: d.holdReason },
  });
  if (mode === 'observe') return;
  for (const victim of d.plan.victims) {
    publish('warning', d, mode, {
      message: warningMessage(d, victim, mode, config),
      process: victim.process,
      details: { next: action, harm: d.harmEvidence },
    });
  }
}

function planAction(d: GpuDecision, mode: GuardMode): PlanAction {
  const wantsKill = d.verdict === 'kill';
  if (mode === 'observe') return wantsKill ? 'would_kill' : 'would_warn';
  if (mode === 'warn' || !wantsKill) return 'warned';
  return mode === 'enforce-term' ? 'terminate' : 'kill';
}

function afterRestore(
  d: GpuDecision,
  mode: GuardMode,
  config: GuardConfig,
  deps: GuardRuntimeDeps,
  publish: Publish,
) {
  const url = deps.ollamaUrl ?? 'http://127.0.0.1:11434';
  const model = d.reservation.model;
  const canReload = config.reloadAfterRestore && deps.reloadModel && model;
  if (!canReload || mode === 'observe') {
    publish('offload_persists', d, mode, { message: offloadMessage(d, url) });
    return;
  }
  // The reload takes as long as a cold start; its result is its own event.
  void deps.reloadModel!(model).then((result) =>
    publish('reload', d, mode, {
      message: result.ok
        ? `reloaded ${model} so it sits fully on GPU ${d.gpuIndex}`
        : `reloading ${model} failed: ${result.error}`,
      details: { ok: result.ok },
    }),
  );
}

async function readAncestries(
  snapshot: Snapshot,
  config: GuardConfig,
  deps: GuardRuntimeDeps,
): Promise<Map<number, AncestorInfo[]>> {
  const ancestry = new Map<number, AncestorInfo[]>();
  const read = deps.readAncestry;
  if (!read || !config.protect.ancestry) return ancestry;
  const pids = snapshot.gpus.flatMap((g) => g.processes.map((p) => p.pid));
  for (const pid of new Set(pids)) {
    const found = await read(pid);
    if (found) ancestry.set(pid, found);
  }
  return ancestry;
}
