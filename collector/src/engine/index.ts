/** The collector engine: agent messages in, SLO verdicts out. */
export { createCollectorEngine } from './collector-engine.ts';
export type {
  CollectorEngine,
  CollectorEngineConfig,
  CollectorEngineDeps,
  EngineStats,
  IncidentSink,
  NodeLiveness,
  SloHistoryPoint,
  SloStatus,
} from './engine-types.ts';
