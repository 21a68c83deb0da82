/**
 * The summary `replay` prints: one line per incident for people, or one
 * JSON document with `--json`. Pure.
 */
import { formatDurationShort } from '../../../shared/src/units.ts';

/** One incident as the summary lists it. */
export interface ReplayIncidentRow {
  id: string;
  severity: string;
  status: string;
  trigger: { rule: string; burnRate: number; window: string };
  node: string;
  slo: string;
  openedAt: string;
  resolvedAt: string | null;
  durationSeconds: number | null;
  postmortemPath: string | null;
}

/** What a replay did. */
export interface ReplaySummary {
  file: string;
  outDir: string;
  messages: number;
  nodes: string[];
  firstAt: string;
  lastAt: string;
  evaluations: number;
  incidents: ReplayIncidentRow[];
}

/** The summary for people, one line per incident. */
export function formatReplaySummary(summary: ReplaySummary): string {
  const head = `replayed ${summary.messages} messages from ${summary.file} (${summary.nodes.join(', ')}), ${summary.firstAt} to ${summary.lastAt}, ${summary.evaluations} evaluations`;
  const rows = summary.incidents.map((i) =>
    [
      i.id,
      i.severity,
      `${i.trigger.rule} (${i.trigger.burnRate.toFixed(1)}x in ${i.trigger.window})`,
      `opened ${i.openedAt}`,
      i.resolvedAt === null ? 'still open' : `resolved ${i.resolvedAt}`,
      i.durationSeconds === null
        ? ''
        : formatDurationShort(i.durationSeconds * 1000),
      i.postmortemPath ? `postmortem ${i.postmortemPath}` : '',
    ]
      .filter((part) => part !== '')
      .join('  '),
  );
  const none = rows.length === 0 ? ['no incidents'] : [];
  return [head, ...rows, ...none, ''].join('\n');
}
