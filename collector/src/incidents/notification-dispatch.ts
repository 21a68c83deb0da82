/**
 * Ties notifications to incidents: an event first becomes a `pending`
 * record in the incident (saved with it, so a restart resends what was not
 * delivered), then the notifier delivers it in the background and every
 * attempt lands in the timeline.
 */
import type { Logger } from '../../../shared/src/logger.ts';
import type {
  Incident,
  NotificationEventKind,
  NotificationRecord,
} from './incident.ts';
import { isoSeconds } from './incident.ts';
import { entry } from './timeline.ts';
import type { NotificationAttempt, Notifier } from './notifier.ts';

/** Plans and runs the deliveries of incident notifications. */
export interface NotificationDispatch {
  /** Adds the records `event` owes to each subscribed channel (pending). */
  plan(incident: Incident, event: NotificationEventKind, atMs: number): void;
  /** Starts delivering every pending record of `incident` not yet running. */
  start(incident: Incident): void;
  /** Waits for running deliveries after aborting their retries. */
  close(): Promise<void>;
}

/** Collaborators of {@link createNotificationDispatch}. */
export interface NotificationDispatchDeps {
  notifier: Notifier | null;
  logger: Logger;
  /** Called after each attempt changed the incident (save, publish). */
  onProgress: (incident: Incident) => void;
}

/** Creates the dispatch; with no notifier, nothing is planned. */
export function createNotificationDispatch(
  options: { externalUrl: string | null },
  deps: NotificationDispatchDeps,
): NotificationDispatch {
  const running = new Map<string, Promise<void>>();
  const abort = new AbortController();

  const plan: NotificationDispatch['plan'] = (incident, event, atMs) => {
    deps.notifier?.channels.forEach((channel, index) => {
      if (!channel.events.includes(event)) return;
      const count = incident.notifications.filter(
        (n) => n.event === event && n.channel === index,
      ).length;
      incident.notifications.push({
        key: `${event}-${count + 1}:${index}`,
        event,
        channel: index,
        status: 'pending',
        attempts: 0,
        at: isoSeconds(atMs),
      });
    });
  };

  const run = async (incident: Incident, record: NotificationRecord) => {
    const notifier = deps.notifier;
    if (!notifier) return;
    const message = {
      event: record.event,
      incident,
      externalUrl: options.externalUrl,
    };
    const onAttempt = (attempt: NotificationAttempt): void => {
      recordAttempt(incident, record, attempt);
      deps.onProgress(incident);
    };
    await notifier.deliver(record.channel, message, onAttempt, abort.signal);
  };

  const start: NotificationDispatch['start'] = (incident) => {
    for (const record of incident.notifications) {
      const id = `${incident.id}/${record.key}`;
      if (record.status !== 'pending' || running.has(id)) continue;
      const delivery = run(incident, record)
        .catch((error: unknown) => {
          deps.logger.error(
            { err: error, incidentId: incident.id },
            'notification delivery crashed',
          );
        })
        .finally(() => running.delete(id));
      running.set(id, delivery);
    }
  };

  const close = async (): Promise<void> => {
    abort.abort();
    await Promise.all(running.values());
  };

  return { plan, start, close };
}

function recordAttempt(
  incident: Incident,
  record: NotificationRecord,
  attempt: NotificationAttempt,
): void {
  record.attempts += 1;
  if (attempt.ok) record.status = 'sent';
  else if (attempt.final) record.status = 'failed';

  const target = `${attempt.channelType} #${attempt.channel}`;
  const outcome = attempt.ok
    ? `HTTP ${attempt.status}`
    : (attempt.error ?? `HTTP ${attempt.status}`);
  const next = attempt.ok ? '' : attempt.final ? '; giving up' : '; will retry';
  incident.timeline.push(
    entry(
      isoSeconds(attempt.atMs),
      attempt.ok ? 'notification_sent' : 'notification_failed',
      `Notification "${record.event}" to ${target}, attempt ${attempt.attempt}: ${outcome}${next}`,
      {
        channel: attempt.channel,
        event: record.event,
        attempt: attempt.attempt,
        status: attempt.status,
      },
    ),
  );
}
