/**
 * Reads a recorded agent stream: JSON lines, each an `AgentMessage`
 * (shared/src/messages.ts). Blank lines are skipped; any other bad line
 * stops the replay before anything runs, with an error naming the line.
 */
import { GpuwardenError } from '../../../shared/src/errors.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';

const PAYLOAD_TYPES = ['hello', 'snapshot', 'sli', 'guard', 'health'];

/** Parses the stream; throws `INPUT_INVALID` naming the first bad line. */
export function parseAgentStream(text: string, file: string): AgentMessage[] {
  const messages: AgentMessage[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const problem = problemOf(line);
    if (typeof problem === 'string') {
      throw new GpuwardenError(
        'INPUT_INVALID',
        `${file} line ${i + 1}: ${problem}; fix or remove that line (each line must be one AgentMessage as JSON)`,
      );
    }
    messages.push(problem);
  });
  if (messages.length === 0) {
    throw new GpuwardenError(
      'INPUT_INVALID',
      `${file} holds no messages; record one with the agent's --record`,
    );
  }
  return messages;
}

function problemOf(line: string): AgentMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null) return 'not an object';
  const m = value as Partial<AgentMessage>;
  if (typeof m.node !== 'string' || m.node === '') return 'node missing';
  if (!Number.isSafeInteger(m.seq)) return 'seq must be a whole number';
  if (!Number.isFinite(m.sentAtMs)) return 'sentAtMs must be a time in ms';
  const type = (m.payload as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !PAYLOAD_TYPES.includes(type)) {
    return `payload.type must be one of ${PAYLOAD_TYPES.join(', ')}`;
  }
  const body = (m.payload as Record<string, unknown>)[type];
  if (typeof body !== 'object' || body === null) {
    return `payload.${type} missing`;
  }
  return type === 'sli'
    ? (sliProblem(body) ?? (m as AgentMessage))
    : (m as AgentMessage);
}

function sliProblem(body: object): string | null {
  const sli = body as Record<string, unknown>;
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!isCount(sli.total) || !isCount(sli.failed)) {
    return 'payload.sli.total and failed must be whole numbers ≥ 0';
  }
  if (!Array.isArray(sli.latencyCounts) || !sli.latencyCounts.every(isCount)) {
    return 'payload.sli.latencyCounts must be a list of whole numbers ≥ 0';
  }
  if (!Number.isFinite(sli.intervalEndMs)) {
    return 'payload.sli.intervalEndMs must be a time in ms';
  }
  return null;
}
