/**
 * Delivers notifications to the configured channels: POSTs what
 * `notification-payloads.ts` builds, retries failures (non-2xx answers,
 * network errors, timeouts) with exponential backoff, and reports every
 * attempt so the incident's timeline shows it. Only URLs from the config
 * are contacted.
 */
import type { Clock } from '../../../shared/src/clock.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import type { NotificationChannel, RetryPolicy } from './incidents-config.ts';
import { buildNotificationRequest } from './notification-payloads.ts';
import type {
  NotificationMessage,
  NotificationRequest,
} from './notification-payloads.ts';

/** The outcome of one HTTP POST. */
export type PostOutcome = { status: number } | { error: string };

/** Sends one POST; never throws. */
export type HttpPost = (
  url: string,
  request: NotificationRequest,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<PostOutcome>;

/** One delivery attempt, as the timeline records it. */
export interface NotificationAttempt {
  channel: number;
  channelType: NotificationChannel['type'];
  attempt: number;
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  error: string | null;
  /** True for the last attempt (delivered, or out of attempts). */
  final: boolean;
  atMs: number;
}

/** Delivers notifications. */
export interface Notifier {
  readonly channels: readonly NotificationChannel[];
  /**
   * Delivers `message` to channel `channel`, retrying per policy. Resolves
   * `sent`, `failed` (out of attempts) or `aborted` (by `signal`).
   */
  deliver(
    channel: number,
    message: NotificationMessage,
    onAttempt: (attempt: NotificationAttempt) => void,
    signal: AbortSignal,
  ): Promise<'sent' | 'failed' | 'aborted'>;
}

/** Options of {@link createNotifier}. */
export interface NotifierOptions {
  channels: NotificationChannel[];
  retry: RetryPolicy;
}

/** Collaborators of {@link createNotifier}; `post` defaults to `fetch`. */
export interface NotifierDeps {
  clock: Clock;
  logger: Logger;
  fs: Fs;
  post?: HttpPost;
}

/** Creates a notifier for the configured channels. */
export function createNotifier(
  options: NotifierOptions,
  deps: NotifierDeps,
): Notifier {
  const post = deps.post ?? createFetchPost(deps.clock);
  const log = deps.logger.child({ component: 'notifier' });

  const deliver: Notifier['deliver'] = async (
    index,
    message,
    onAttempt,
    signal,
  ) => {
    const channel = options.channels[index];
    if (!channel) return 'failed';
    for (let attempt = 1; attempt <= options.retry.attempts; attempt += 1) {
      if (signal.aborted) return 'aborted';
      const outcome = await sendOnce(
        channel,
        message,
        post,
        deps.fs,
        options.retry.timeoutMs,
        signal,
      );
      if (signal.aborted) return 'aborted';
      const ok =
        'status' in outcome && outcome.status >= 200 && outcome.status < 300;
      const final = ok || attempt === options.retry.attempts;
      onAttempt({
        channel: index,
        channelType: channel.type,
        attempt,
        ok,
        status: 'status' in outcome ? outcome.status : null,
        error:
          'error' in outcome
            ? outcome.error
            : ok
              ? null
              : `HTTP ${String((outcome as { status: number }).status)}`,
        final,
        atMs: deps.clock.nowMs(),
      });
      if (ok) return 'sent';
      if (final) break;
      const waitMs = backoffMs(options.retry, attempt);
      try {
        await deps.clock.sleep(waitMs, signal);
      } catch {
        return 'aborted';
      }
    }
    log.error(
      {
        channel: index,
        type: channel.type,
        incidentId: message.incident.id,
        event: message.event,
      },
      'notification not delivered',
    );
    return 'failed';
  };

  return { channels: options.channels, deliver };
}

/** The wait before attempt `attempt + 1`: doubling, capped. */
export function backoffMs(retry: RetryPolicy, attempt: number): number {
  return Math.min(
    retry.maxBackoffMs,
    retry.initialBackoffMs * 2 ** (attempt - 1),
  );
}

async function sendOnce(
  channel: NotificationChannel,
  message: NotificationMessage,
  post: HttpPost,
  fs: Fs,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostOutcome> {
  const request = buildNotificationRequest(channel, message);
  const headers = { ...request.headers, ...channel.headers };
  if (channel.tokenFile) {
    try {
      const token = (await fs.readText(channel.tokenFile)).trim();
      headers.Authorization = `Bearer ${token}`;
    } catch (error) {
      return {
        error: `cannot read token file ${channel.tokenFile}: ${(error as Error).message}`,
      };
    }
  }
  return post(channel.url, { headers, body: request.body }, timeoutMs, signal);
}

/** A POST on the platform `fetch`, with its time limit on `clock`. */
export function createFetchPost(clock: Clock): HttpPost {
  return async (url, request, timeoutMs, signal) => {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const cancel = clock.setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      // Drain the body so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      const timedOut = controller.signal.aborted && !signal.aborted;
      return {
        error: timedOut
          ? `timed out after ${timeoutMs} ms`
          : (error as Error).message,
      };
    } finally {
      cancel();
      signal.removeEventListener('abort', onAbort);
    }
  };
}
