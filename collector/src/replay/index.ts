/** Replay of recorded agent streams on a simulated clock. */
export { parseAgentStream } from './read-stream.ts';
export { runReplay } from './replay.ts';
export type { ReplayDeps, ReplayOptions, ReplayRun } from './replay.ts';
export { replayCommand, replayFile } from './replay-command.ts';
export { formatReplaySummary } from './replay-summary.ts';
export type { ReplayIncidentRow, ReplaySummary } from './replay-summary.ts';
