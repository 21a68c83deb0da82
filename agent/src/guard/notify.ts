/**
 * The warning hook: a command that gets the event as JSON on stdin, and/or
 * a webhook that gets it as a JSON POST. Both bounded by the hook timeout;
 * a failure is logged, never thrown into the guard.
 */
import type { Exec } from '../../../shared/src/exec.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { GuardEvent } from '../../../shared/src/messages.ts';
import type { HookConfig } from './guard-config.ts';

/** Delivers one event to people. */
export type Notifier = (event: GuardEvent) => Promise<void>;

/** Collaborators of {@link createHookNotifier}. */
export interface HookDeps {
  exec: Exec;
  fetch: typeof fetch;
  logger: Logger;
}

/** A notifier for the configured hook; does nothing when none is set. */
export function createHookNotifier(hook: HookConfig, deps: HookDeps): Notifier {
  const log = deps.logger.child({ component: 'guard-hook' });
  return async (event) => {
    const body = JSON.stringify(event);
    await Promise.all([
      hook.command
        ? runCommand(hook, hook.command, event, body, deps, log)
        : null,
      hook.webhook ? post(hook, hook.webhook, body, deps, log) : null,
    ]);
  };
}

async function runCommand(
  hook: HookConfig,
  command: string[],
  event: GuardEvent,
  body: string,
  deps: HookDeps,
  log: Logger,
): Promise<void> {
  const [file, ...args] = command;
  if (!file) return;
  const result = await deps.exec(file, args, {
    timeoutMs: hook.timeoutMs,
    input: body,
    env: {
      GPUWARDEN_EVENT_KIND: event.kind,
      GPUWARDEN_GPU_UUID: event.gpuUuid,
      GPUWARDEN_MESSAGE: event.message,
      GPUWARDEN_PID: event.process ? String(event.process.pid) : '',
      GPUWARDEN_USER: event.process?.user ?? '',
    },
  });
  if (result.exitCode !== 0) {
    log.warn(
      {
        file,
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        spawnError: result.spawnError,
        stderr: result.stderr.slice(0, 200),
      },
      'guard hook command failed',
    );
  }
}

async function post(
  hook: HookConfig,
  url: string,
  body: string,
  deps: HookDeps,
  log: Logger,
): Promise<void> {
  try {
    const response = await deps.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(hook.timeoutMs),
    });
    if (!response.ok) {
      log.warn({ url, status: response.status }, 'guard webhook refused');
    }
  } catch (error) {
    log.warn({ url, err: error }, 'guard webhook failed');
  }
}
