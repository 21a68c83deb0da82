/**
 * The REST API: read the fleet, SLOs and incidents; ack, resolve and note
 * incidents. Every error is JSON with a status code; a rejected request
 * changes nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncidentStatus } from '../incidents/incident.ts';
import { readJsonBody, sendError, sendJson, sendText } from './http-json.ts';
import type { ActionOutcome, WebSources } from './ports.ts';

const INCIDENT_ID = /^INC-\d{8}-[0-9a-f]{4}$/;
const MAX_BY_CHARS = 100;
const MAX_NOTE_CHARS = 4000;

type Action = 'ack' | 'resolve' | 'notes';

/** Every incident status; the type makes the compiler keep it complete. */
const STATUS_SET: Record<IncidentStatus, true> = {
  open: true,
  acknowledged: true,
  resolved: true,
  closed: true,
};
const INCIDENT_STATUSES = Object.keys(STATUS_SET) as IncidentStatus[];

function isIncidentStatus(value: string): value is IncidentStatus {
  return Object.hasOwn(STATUS_SET, value);
}

/** What the router needs besides the request. */
export interface ApiContext {
  sources: WebSources;
  /** True when the request carries the web token. */
  authorized: boolean;
  /** True when a token is configured (writes possible at all). */
  writesEnabled: boolean;
}

/** Answers one `/api/...` request. */
export async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: ApiContext,
): Promise<void> {
  const parts = url.pathname.split('/').filter(Boolean).slice(1);
  const method = req.method ?? 'GET';
  const [collection, id, action, extra] = parts;

  if (extra !== undefined) return sendError(res, 404, 'no such API path');
  if (collection === 'nodes' && id === undefined) {
    return readOnly(method, res, () => ({ nodes: ctx.sources.nodes() }));
  }
  if (collection === 'slos' && id === undefined) {
    return readOnly(method, res, () => ({ slos: ctx.sources.slos() }));
  }
  if (collection !== 'incidents')
    return sendError(res, 404, 'no such API path');
  if (id === undefined) return listIncidents(method, res, url, ctx);
  if (!INCIDENT_ID.test(id)) {
    return sendError(res, 400, 'incident id must look like INC-20260228-a3f7');
  }
  if (action === undefined) return getIncident(method, res, id, ctx);
  if (action === 'postmortem.md') return getPostmortem(method, res, id, ctx);
  if (action === 'ack' || action === 'resolve' || action === 'notes') {
    return act(req, res, id, action, ctx);
  }
  return sendError(res, 404, 'no such API path');
}

function readOnly(method: string, res: ServerResponse, body: () => unknown) {
  if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET');
  sendJson(res, 200, body());
}

function listIncidents(
  method: string,
  res: ServerResponse,
  url: URL,
  ctx: ApiContext,
) {
  const status = url.searchParams.get('status');
  if (status !== null && !isIncidentStatus(status)) {
    return sendError(
      res,
      400,
      `status must be one of ${INCIDENT_STATUSES.join(', ')}, got ${JSON.stringify(status.slice(0, 40))}`,
    );
  }
  readOnly(method, res, () => ({
    incidents: ctx.sources.incidents
      .list()
      .filter((incident) => status === null || incident.status === status),
  }));
}

function getIncident(
  method: string,
  res: ServerResponse,
  id: string,
  ctx: ApiContext,
) {
  if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET');
  const incident = ctx.sources.incidents.get(id);
  if (!incident) return sendError(res, 404, `no incident ${id}`);
  sendJson(res, 200, incident);
}

async function getPostmortem(
  method: string,
  res: ServerResponse,
  id: string,
  ctx: ApiContext,
) {
  if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET');
  if (!ctx.sources.incidents.get(id)) {
    return sendError(res, 404, `no incident ${id}`);
  }
  const markdown = await ctx.sources.incidents.postmortemMarkdown(id);
  if (markdown === null) {
    return sendError(res, 404, `no postmortem for ${id} yet`);
  }
  sendText(res, 200, 'text/markdown; charset=utf-8', markdown);
}

async function act(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  action: Action,
  ctx: ApiContext,
) {
  if (req.method !== 'POST') return notAllowed(res, 'POST');
  if (!ctx.writesEnabled) {
    return sendError(
      res,
      403,
      'writes are disabled: set web.tokenFile in the collector config',
    );
  }
  if (!ctx.authorized) {
    return sendError(
      res,
      401,
      'send the web token as Authorization: Bearer <token>',
    );
  }
  const read = await readJsonBody(req);
  if (!read.ok) return sendError(res, read.status, read.message);
  const parsed = parseActionBody(read.body, action);
  if (typeof parsed === 'string') return sendError(res, 400, parsed);
  answer(res, await runAction(ctx, id, action, parsed));
}

interface ActionBody {
  by: string;
  note: string | null;
}

function parseActionBody(
  body: Record<string, unknown>,
  action: Action,
): ActionBody | string {
  const allowed = action === 'notes' ? ['by', 'text'] : ['by', 'note'];
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown)
    return `unknown field "${unknown}"; allowed: ${allowed.join(', ')}`;
  const by = body.by ?? 'api';
  if (typeof by !== 'string' || by.length === 0 || by.length > MAX_BY_CHARS) {
    return `by must be a name of 1 to ${MAX_BY_CHARS} characters`;
  }
  const noteKey = action === 'notes' ? 'text' : 'note';
  const note = body[noteKey] ?? null;
  if (
    note !== null &&
    (typeof note !== 'string' || note.length > MAX_NOTE_CHARS)
  ) {
    return `${noteKey} must be text of at most ${MAX_NOTE_CHARS} characters`;
  }
  if (action === 'notes' && (note === null || note.trim() === '')) {
    return 'text is required for a note';
  }
  return { by, note };
}

function runAction(
  ctx: ApiContext,
  id: string,
  action: Action,
  body: ActionBody,
): Promise<ActionOutcome> {
  const incidents = ctx.sources.incidents;
  if (action === 'ack') return incidents.ack(id, body.by, body.note);
  if (action === 'resolve') return incidents.resolve(id, body.by, body.note);
  return incidents.addNote(id, body.by, body.note ?? '');
}

function answer(res: ServerResponse, outcome: ActionOutcome): void {
  if (outcome.ok) return sendJson(res, 200, outcome.incident);
  sendError(res, outcome.status, outcome.message);
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendError(res, 405, `use ${allow} here`);
}
