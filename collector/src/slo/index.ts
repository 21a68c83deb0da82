/**
 * SLOs: config, buckets, exact burn rates and multiwindow alert rules.
 * Pure: no I/O.
 */
export type {
  AlertState,
  DataState,
  FiringRule,
  Severity,
} from './alert-state.ts';
export { evaluateSlo, mostSevere } from './alert-rules.ts';
export type {
  SloEvaluationInput,
  SloVerdict,
  WindowReading,
} from './alert-rules.ts';
export { BucketSeries } from './bucket-series.ts';
export type { SeriesData, WindowCounts } from './bucket-series.ts';
export { budgetRemainingRatio, burnAtLeast, burnRate } from './burn-rate.ts';
export { MICROS, PPM, parseScaledDecimal } from './decimal.ts';
export { sliCounts } from './sli.ts';
export {
  budgetPpm,
  defaultRules,
  defaultSlo,
  parseSloConfig,
  windowName,
} from './slo-config.ts';
export type {
  AlertRuleDefinition,
  SloConfig,
  SloDefinition,
} from './slo-config.ts';
