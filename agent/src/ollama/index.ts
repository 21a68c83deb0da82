/**
 * The Ollama monitor: API client, latency probe, request-log reader,
 * residency and offload health, harm signals for the guard, and the
 * identification of Ollama's own GPU processes.
 */
export { parseOllamaConfig, DEFAULT_OLLAMA_URL } from './ollama-config.ts';
export type {
  OllamaConfig,
  ProbeConfig,
  OllamaLogConfig,
} from './ollama-config.ts';
export { createOllamaMonitor } from './monitor.ts';
export type {
  OllamaMonitor,
  OllamaMonitorDeps,
  OllamaMonitorStats,
} from './monitor.ts';
export { OllamaClient, classifyFetchError } from './client.ts';
export type { FetchPort, OllamaFailure } from './client.ts';
export {
  identifyOllamaProcesses,
  DEFAULT_OLLAMA_PREFIXES,
} from './processes.ts';
export type {
  AncestorInfo,
  AncestryLookup,
  OllamaProcessMatch,
} from './processes.ts';
export { parseGoDurationMs } from './go-duration.ts';
export { parseGinLine, judgeRequest } from './gin-line.ts';
export { parseLoadLine } from './load-lines.ts';
export { RequestLogReader } from './request-log.ts';
export { SliAggregator } from './sli-aggregator.ts';
export { shouldOllamaBeUp } from './expect-up.ts';
