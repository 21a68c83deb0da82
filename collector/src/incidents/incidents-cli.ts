/**
 * `gpuwarden-collector incidents`: list, show, acknowledge, resolve and
 * annotate incidents, and print postmortems, through a running collector's
 * REST API (so the collector stays the only writer of its store).
 */
import { parseFlags } from '../../../shared/src/cli.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import type { CliCommand, CliIo } from '../../../shared/src/cli.ts';
import { GpuwardenError, UsageError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Incident } from './incident.ts';
import { durationText } from './postmortem.ts';

/** An HTTP exchange: status and body text; throws only on no answer. */
export type CliHttp = (
  url: string,
  init: {
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body?: string;
  },
) => Promise<{ status: number; text: string }>;

/** Collaborators of the command. */
export interface IncidentsCliDeps {
  fs: Fs;
  http: CliHttp;
  /** Now, ms, for the running duration of open incidents. */
  nowMs: () => number;
}

const DEFAULT_URL = 'http://127.0.0.1:7411';
const CLI_TIMEOUT_MS = 10_000;
const ACTIONS = ['list', 'show', 'ack', 'resolve', 'note', 'postmortem'];

const USAGE = `gpuwarden-collector incidents list [--status S] [--json] [--url URL]
       gpuwarden-collector incidents show ID [--json] [--url URL]
       gpuwarden-collector incidents postmortem ID [--url URL]
       gpuwarden-collector incidents ack|resolve ID [--note TEXT] [--by NAME] --token-file F [--url URL]
       gpuwarden-collector incidents note ID --note TEXT [--by NAME] --token-file F [--url URL]`;

/** The `incidents` command. */
export function createIncidentsCommand(deps: IncidentsCliDeps): CliCommand {
  return {
    summary:
      'list, show, ack, resolve or annotate incidents of a running collector',
    usage: USAGE,
    run: (args, io) => runIncidents(args, io, deps),
  };
}

async function runIncidents(
  args: string[],
  io: CliIo,
  deps: IncidentsCliDeps,
): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      url: { type: 'string', default: DEFAULT_URL },
      'token-file': { type: 'string' },
      by: { type: 'string', default: 'cli' },
      note: { type: 'string' },
      status: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  const [action, id] = positionals;
  if (!action || !ACTIONS.includes(action)) {
    throw new UsageError(`say one of ${ACTIONS.join(', ')}; see --help`);
  }
  if (action !== 'list' && !id)
    throw new UsageError(
      `${action} needs an incident ID like INC-20260228-a3f7`,
    );
  const base = `${values.url.replace(/\/+$/, '')}/api/incidents`;

  if (action === 'list') {
    const query = values.status
      ? `?status=${encodeURIComponent(values.status)}`
      : '';
    const body = (await call(deps, `${base}${query}`, 'GET')) as {
      incidents: Incident[];
    };
    io.stdout(
      values.json
        ? `${JSON.stringify(body.incidents, null, 2)}\n`
        : table(body.incidents, deps.nowMs()),
    );
    return 0;
  }
  if (action === 'show') {
    const incident = (await call(deps, `${base}/${id}`, 'GET')) as Incident;
    io.stdout(
      values.json
        ? `${JSON.stringify(incident, null, 2)}\n`
        : describe(incident, deps.nowMs()),
    );
    return 0;
  }
  if (action === 'postmortem') {
    io.stdout(
      String(
        await call(deps, `${base}/${id}/postmortem.md`, 'GET', undefined, true),
      ),
    );
    return 0;
  }
  return act(action, id!, values, base, io, deps);
}

async function act(
  action: string,
  id: string,
  values: { 'token-file'?: string; by: string; note?: string },
  base: string,
  io: CliIo,
  deps: IncidentsCliDeps,
): Promise<number> {
  const tokenFile = values['token-file'];
  if (!tokenFile)
    throw new UsageError(
      `${action} needs --token-file with the collector's web token`,
    );
  if (action === 'note' && !values.note)
    throw new UsageError('note needs --note TEXT');
  const token = (await deps.fs.readText(tokenFile)).trim();
  const path = action === 'note' ? 'notes' : action;
  const body =
    action === 'note'
      ? { by: values.by, text: values.note }
      : { by: values.by, note: values.note ?? null };
  const incident = (await call(
    deps,
    `${base}/${id}/${path}`,
    'POST',
    token,
    false,
    body,
  )) as Incident;
  const done = action === 'note' ? 'note added; it' : 'it';
  io.stdout(`${incident.id}: ${done} is ${incident.status} now\n`);
  return 0;
}

async function call(
  deps: IncidentsCliDeps,
  url: string,
  method: 'GET' | 'POST',
  token?: string,
  asText = false,
  body?: object,
): Promise<unknown> {
  const headers: Record<string, string> = {
    Accept: asText ? 'text/markdown' : 'application/json',
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers['Content-Type'] = 'application/json';
  let answer: { status: number; text: string };
  try {
    answer = await deps.http(url, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    throw new GpuwardenError(
      'SOURCE_UNAVAILABLE',
      `cannot reach the collector at ${url} (${(error as Error).message}); is it running, and is --url right?`,
    );
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new GpuwardenError(
      'INPUT_INVALID',
      `collector answered ${answer.status}: ${errorMessage(answer.text)}`,
    );
  }
  return asText ? answer.text : JSON.parse(answer.text);
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    return parsed.error?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

function table(incidents: Incident[], nowMs: number): string {
  if (incidents.length === 0) return 'no incidents\n';
  const rows = incidents.map((i) => [
    i.id,
    i.severity,
    i.status,
    i.node,
    i.openedAt,
    durationText(i, nowMs),
    i.title,
  ]);
  const head = ['ID', 'SEV', 'STATUS', 'NODE', 'OPENED', 'DURATION', 'TITLE'];
  const widths = head.map((h, c) =>
    Math.max(h.length, ...rows.map((r) => String(r[c]).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

function describe(incident: Incident, nowMs: number): string {
  const lines = [
    `${incident.id}  ${incident.severity}  ${incident.status}  ${incident.title}`,
    `trigger:  ${incident.trigger.rule} (${incident.trigger.burnRate.toFixed(1)}x in ${incident.trigger.window})`,
    `opened:   ${incident.openedAt}   resolved: ${incident.resolvedAt ?? 'not yet'}   duration: ${durationText(incident, nowMs)}`,
    `root cause: ${incident.rootCause}`,
    ...incident.remediation.map((step, i) => `  ${i + 1}. ${step}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The command's HTTP on the platform `fetch`. */
export const fetchHttp: CliHttp = async (url, init) => {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
  });
  return { status: response.status, text: await response.text() };
};

/** The `incidents` command on the real file system, network and clock. */
export function incidentsCommand(): CliCommand {
  const clock = createSystemClock();
  return createIncidentsCommand({
    fs: createNodeFs(),
    http: fetchHttp,
    nowMs: () => clock.nowMs(),
  });
}
