/** The collector service and its `run` command. */
export { startCollectorService } from './collector-service.ts';
export type {
  CollectorService,
  CollectorServiceDeps,
} from './collector-service.ts';
export {
  FORCED_EXIT_CODE,
  formatStartLine,
  realRunDeps,
  runCommand,
} from './run-command.ts';
export type { RunCommandDeps } from './run-command.ts';
export { GuardTally, fanOutSink } from './activity-sink.ts';
export type { GuardCounts } from './activity-sink.ts';
export { fleetLiveness, fleetServing, nodeViewOf } from './fleet-ports.ts';
export type { NodeApiView } from './fleet-ports.ts';
export {
  createChangeHub,
  createWebSources,
  incidentPortOf,
  sloViewOf,
  toIncidentView,
} from './web-sources.ts';
export type { ChangeHub, WebSourceParts } from './web-sources.ts';
