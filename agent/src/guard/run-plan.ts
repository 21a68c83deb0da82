/**
 * Carries out one plan on one GPU: a victim at a time through the
 * {@link Enforcer}, each outcome an event, a fresh plan before the next
 * victim, and a stop as soon as the reservation is met or a step fails.
 */
import type {
  GuardEvent,
  GuardEventKind,
} from '../../../shared/src/messages.ts';
import { formatBytes } from '../../../shared/src/units.ts';
import { Enforcer } from './enforcer.ts';
import type { StepOutcome } from './enforcer.ts';
import type { EventExtra } from './events.ts';
import { describeProcess, infeasibleMessage, planDetails } from './events.ts';
import type { Guard } from './guard.ts';
import type { GuardConfig, GuardMode } from './guard-config.ts';
import type { HarmSignals } from './harm.ts';
import { NO_HARM_EVIDENCE } from './harm.ts';
import type { GuardRuntimeDeps } from './runtime-deps.ts';
import type { Candidate, GpuDecision } from './types.ts';

/** What {@link runPlan} works with. */
export interface RunPlanContext {
  config: GuardConfig;
  deps: GuardRuntimeDeps;
  guard: Guard;
  /** The harm signals the plan was made with. */
  harm: () => HarmSignals | null;
  publish: (
    kind: GuardEventKind,
    d: GpuDecision,
    mode: GuardMode,
    extra: EventExtra,
  ) => GuardEvent;
}

/** At most this many victims per plan, whatever the plans say. */
const MAX_STEPS = 16;

/** Runs the plan; never throws (a failure is logged and ends the plan). */
export async function runPlan(
  first: GpuDecision,
  mode: GuardMode,
  ctx: RunPlanContext,
): Promise<void> {
  const { deps, config } = ctx;
  const log = deps.logger.child({ component: 'guard', gpuUuid: first.gpuUuid });
  const enforcer = new Enforcer(
    {
      allowKill: mode === 'enforce',
      termGraceMs: config.termGraceMs,
      killGraceMs: config.killGraceMs,
      releaseTimeoutMs: config.releaseTimeoutMs,
      pollIntervalMs: config.pollIntervalMs,
      releaseRatio: config.releaseRatio,
    },
    deps,
  );
  let decision: GpuDecision | null = first;
  let signalled = false;
  let restored = false;
  try {
    for (let step = 0; decision && step < MAX_STEPS; step += 1) {
      const victim: Candidate | undefined = decision.plan.victims[0];
      if (!victim) break;
      const outcome = await runStep(enforcer, decision, victim, mode, ctx);
      signalled ||= outcome.signals.length > 0;
      if (outcome.result !== 'freed') break;
      ctx.guard.noteKill(decision.gpuUuid, victim, deps.clock.nowMs());
      const after = await replan(decision, mode, ctx);
      restored = after.restored;
      decision = after.next;
    }
  } catch (error) {
    log.error({ err: error }, 'guard plan failed; stopping it');
  } finally {
    if (signalled) {
      ctx.guard.notePlanDone(first.gpuUuid, deps.clock.nowMs(), restored);
    }
  }
}

async function runStep(
  enforcer: Enforcer,
  d: GpuDecision,
  victim: Candidate,
  mode: GuardMode,
  ctx: RunPlanContext,
): Promise<StepOutcome> {
  const onSignal = (signal: string) => {
    const kind = signal === 'SIGKILL' ? 'kill' : 'signal';
    ctx.publish(kind, d, mode, {
      message: `sent ${signal} to ${describeProcess(victim.process)}, holding ${formatBytes(victim.usedBytes)} on GPU ${d.gpuIndex}`,
      process: victim.process,
      signal,
      details: { startTimeTicks: victim.startTimeTicks },
    });
  };
  const outcome = await enforcer.execute(
    { gpuUuid: d.gpuUuid, victim, expectedBootId: ctx.deps.bootId },
    onSignal,
  );
  publishOutcome(d, victim, mode, outcome, ctx);
  return outcome;
}

function publishOutcome(
  d: GpuDecision,
  victim: Candidate,
  mode: GuardMode,
  outcome: StepOutcome,
  ctx: RunPlanContext,
) {
  const who = describeProcess(victim.process);
  const details = { outcome, startTimeTicks: victim.startTimeTicks };
  if (outcome.result === 'freed') {
    ctx.publish('freed', d, mode, {
      message: `${who} is gone and ${formatBytes(outcome.freedBytes)} came back on GPU ${d.gpuIndex}`,
      process: victim.process,
      freedBytes: outcome.freedBytes,
      freeBytes: outcome.freeAfterBytes,
      details,
    });
    return;
  }
  ctx.publish('abort', d, mode, {
    message: `stopped acting on ${who}: ${outcome.reason ?? outcome.result}`,
    process: victim.process,
    freedBytes: outcome.freedBytes,
    details,
  });
}

/** A fresh plan after a victim is gone: the next victim's, or none. */
async function replan(
  previous: GpuDecision,
  mode: GuardMode,
  ctx: RunPlanContext,
): Promise<{ next: GpuDecision | null; restored: boolean }> {
  const snapshot = await ctx.deps.sample();
  const next = ctx.guard.replan(
    {
      snapshot,
      harm: ctx.harm() ?? NO_HARM_EVIDENCE,
      nowMs: ctx.deps.clock.nowMs(),
    },
    previous.gpuUuid,
  );
  if (!next?.math) return { next: null, restored: false };
  if (next.math.deficitBytes <= 0) return { next: null, restored: true };
  if (next.verdict === 'infeasible' || next.verdict === 'breaker') {
    ctx.publish('infeasible', next, mode, {
      message: infeasibleMessage(next),
      details: planDetails(next),
    });
  }
  return { next: next.verdict === 'kill' ? next : null, restored: false };
}
