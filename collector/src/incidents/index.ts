/**
 * The incident side of the collector: lifecycle, store, evidence and root
 * cause, postmortems and notifications.
 */
export { createIncidentManager } from './manager.ts';
export type {
  IncidentChange,
  IncidentFilter,
  IncidentFleet,
  IncidentManager,
  IncidentManagerDeps,
  IncidentManagerOptions,
  IncidentOpError,
} from './manager-types.ts';
export type {
  Incident,
  IncidentStatus,
  IncidentTrigger,
  NotificationEventKind,
  NotificationRecord,
  TimelineEntry,
  TimelineKind,
} from './incident.ts';
export { dedupKeyOf, isIncidentId } from './incident.ts';
export type { IncidentEvidence } from './evidence.ts';
export {
  ALL_NOTIFICATION_EVENTS,
  parseIncidentsConfig,
} from './incidents-config.ts';
export type {
  IncidentsConfig,
  NotificationChannel,
  NotificationChannelType,
  RetryPolicy,
} from './incidents-config.ts';
export { createNotifier, createFetchPost } from './notifier.ts';
export type {
  HttpPost,
  NotificationAttempt,
  Notifier,
  NotifierDeps,
  NotifierOptions,
} from './notifier.ts';
export {
  DEFAULT_POSTMORTEM_FOOTER,
  durationText,
  postmortemSections,
  triggerText,
} from './postmortem.ts';
export type { PostmortemOptions, PostmortemSection } from './postmortem.ts';
export { composePostmortem, editedSections } from './postmortem-merge.ts';
export { describeProcess, identifyProcess } from './friendly-names.ts';
export {
  createIncidentsCommand,
  fetchHttp,
  incidentsCommand,
} from './incidents-cli.ts';
export type { CliHttp, IncidentsCliDeps } from './incidents-cli.ts';
