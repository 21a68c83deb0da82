// gpuwarden dashboard: renders the collector's state and follows the live
// feed. No framework and no build step; everything shown is escaped.

const state = { nodes: [], slos: [], incidents: [] };
const openIncidents = new Set();
const postmortems = new Map();
const token = readToken();

// ---- formatting -----------------------------------------------------------

function esc(value) {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[
        c
      ],
  );
}

function bytes(value) {
  if (value === null || value === undefined) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

function orNa(value, unit = '') {
  return value === null || value === undefined ? 'n/a' : `${value}${unit}`;
}

function time(ms) {
  if (ms === null || ms === undefined) return 'n/a';
  return new Date(ms).toISOString().slice(11, 19) + 'Z';
}

function ago(ms) {
  if (ms === null || ms === undefined) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 90) return `${seconds}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function burn(value) {
  return value === null || value === undefined
    ? 'no data'
    : `${value.toFixed(2)}x`;
}

// ---- nodes ------------------------------------------------------------------

function renderNodes() {
  const root = document.getElementById('nodes');
  if (state.nodes.length === 0) {
    root.innerHTML = '<p class="muted">No agent has connected yet.</p>';
    return;
  }
  root.innerHTML = state.nodes.map(renderNode).join('');
}

function renderNode(node) {
  const status = node.connected
    ? '<span class="pill pill-ok">connected</span>'
    : `<span class="pill pill-bad">agent disconnected</span> <span class="muted">last seen ${esc(ago(node.lastSeenMs))}</span>`;
  const host = node.hello?.host;
  const facts = host
    ? `<span class="muted">${esc(host.os ?? '')} · ${esc(host.cpu ?? '')}</span>`
    : '';
  const snapshot = node.snapshot;
  const why = node.sampler?.lastError;
  const gpus = snapshot
    ? snapshot.gpus.map((gpu) => renderGpu(node, gpu)).join('')
    : `<p class="muted">No data: ${why ? esc(why) : 'no snapshot received yet.'}</p>`;
  const stale = snapshot
    ? `<span class="muted">sampled ${esc(ago(Date.parse(snapshot.takenAt)))} via ${esc(snapshot.source)}</span>`
    : '';
  return `<article class="card ${node.connected ? '' : 'disconnected'}" data-node="${esc(node.node)}">
    <div class="row"><h3>${esc(node.node)}</h3>${status}${facts}${stale}</div>
    ${renderProblems(snapshot)}
    ${gpus}
    ${renderOllama(node.ollama)}
    ${renderGuard(node)}
  </article>`;
}

function renderProblems(snapshot) {
  if (!snapshot || snapshot.problems.length === 0) return '';
  const items = snapshot.problems
    .map((p) => `<li>${esc(p.message)}</li>`)
    .join('');
  return `<ul class="events muted">${items}</ul>`;
}

function reservationFor(node, gpu) {
  const list = node.hello?.policy?.reservations ?? [];
  return (
    list.find((r) => r.gpu === gpu.uuid || r.gpu === `index:${gpu.index}`) ??
    null
  );
}

function renderGpu(node, gpu) {
  const total = gpu.memory.totalBytes;
  const procs = [...gpu.processes].sort(
    (a, b) =>
      Number(Boolean(b.protected)) - Number(Boolean(a.protected)) ||
      (b.usedBytes ?? 0) - (a.usedBytes ?? 0),
  );
  const reservation = reservationFor(node, gpu);
  return `<div class="gpu" data-gpu="${esc(gpu.uuid)}">
    <div class="row"><strong>GPU ${esc(gpu.index)} · ${esc(gpu.name ?? 'unknown GPU')}</strong>
      <span>util ${esc(orNa(gpu.utilizationPercent.gpu, '%'))}</span>
      <span>${esc(orNa(gpu.temperatureC, ' °C'))}</span>
      <span>${esc(orNa(gpu.powerWatts === null ? null : Math.round(gpu.powerWatts), ' W'))}</span>
      <span class="vram-text">${esc(bytes(gpu.memory.usedBytes))} of ${esc(bytes(total))} used · ${esc(bytes(gpu.memory.freeBytes))} free</span>
    </div>
    ${renderBar(procs, gpu, reservation)}
    <div class="legend"><span><i class="swatch seg-protected"></i>protected</span><span><i class="swatch seg-other"></i>other processes</span><span><i class="swatch seg-unknown"></i>unattributed</span></div>
    ${renderProcesses(procs)}
  </div>`;
}

function renderBar(procs, gpu, reservation) {
  const total = gpu.memory.totalBytes;
  if (!total) return '<p class="muted">Memory size unknown.</p>';
  const pct = (v) =>
    `${Math.max(0, Math.min(100, (v / total) * 100)).toFixed(2)}%`;
  let attributed = 0;
  const segs = procs
    .filter((p) => p.usedBytes !== null && p.usedBytes > 0)
    .map((p) => {
      attributed += p.usedBytes;
      const kind = p.protected ? 'seg-protected' : 'seg-other';
      const label = `${p.name ?? 'pid ' + p.pid} (pid ${p.pid}): ${bytes(p.usedBytes)}`;
      return `<div class="seg ${kind}" style="width:${pct(p.usedBytes)}" title="${esc(label)}" data-pid="${esc(p.pid)}"></div>`;
    });
  const rest = (gpu.memory.usedBytes ?? attributed) - attributed;
  if (rest > 0) {
    segs.push(
      `<div class="seg seg-unknown" style="width:${pct(rest)}" title="unattributed: ${esc(bytes(rest))}"></div>`,
    );
  }
  const line = reservation
    ? `<div class="reservation" style="left:${pct(reservation.reservedBytes)}"><span>${esc(bytes(reservation.reservedBytes))} reserved for ${esc(reservation.workload)}</span></div>`
    : '';
  return `<div class="vram" role="img" aria-label="VRAM by process">${segs.join('')}${line}</div>`;
}

function renderProcesses(procs) {
  if (procs.length === 0)
    return '<p class="muted">No processes on this GPU.</p>';
  const rows = procs
    .map(
      (p) => `<tr data-pid="${esc(p.pid)}"><td class="num">${esc(p.pid)}</td>
      <td>${esc(p.name ?? 'n/a')}${p.protected ? ' <span class="pill pill-ok">protected</span>' : ''}</td>
      <td>${esc(p.user ?? 'n/a')}</td><td>${esc(p.unit ?? '')}</td>
      <td>${esc(p.type)}</td><td class="num">${esc(bytes(p.usedBytes))}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th class="num">pid</th><th>process</th><th>user</th><th>unit</th><th>type</th><th class="num">VRAM</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function renderOllama(ollama) {
  if (!ollama) return '<p class="muted">Ollama: no data.</p>';
  if (!ollama.reachable) {
    return '<p><strong>Ollama</strong> <span class="pill pill-bad">unreachable</span></p>';
  }
  const resident =
    ollama.resident === null
      ? '<span class="pill pill-muted">residency unknown</span>'
      : ollama.resident
        ? '<span class="pill pill-ok">resident</span>'
        : '<span class="pill pill-warn">not resident</span>';
  const offload =
    ollama.offloadedBytes > 0
      ? `<span class="pill pill-bad">partly on CPU: ${esc(bytes(ollama.sizeVramBytes))} of ${esc(bytes(ollama.sizeBytes))} on GPU</span>`
      : ollama.resident
        ? '<span class="muted">fully on GPU</span>'
        : '';
  return `<p class="row"><strong>Ollama ${esc(ollama.version ?? '')}</strong>
    <span>${esc(ollama.model ?? 'no model watched')}</span>${resident}${offload}
    <span>latency ${esc(ollama.lastLatencyMs === null ? 'n/a' : Math.round(ollama.lastLatencyMs) + ' ms')}</span></p>`;
}

function renderGuard(node) {
  const policy = node.hello?.policy;
  const mode = policy
    ? `mode <strong>${esc(policy.mode)}</strong>`
    : 'no policy';
  const events = (node.guard ?? []).slice(-8).reverse();
  const items = events
    .map((e) => `<li><time>${esc(time(e.atMs))}</time>${esc(e.message)}</li>`)
    .join('');
  return `<div><strong>Guard</strong> <span class="muted">${mode}</span>
    ${items ? `<ul class="events guard-events">${items}</ul>` : '<p class="muted">No guard decisions yet.</p>'}</div>`;
}

// ---- SLOs -------------------------------------------------------------------

function renderSlos() {
  const root = document.getElementById('slos');
  if (state.slos.length === 0) {
    root.innerHTML = '<p class="muted">No SLO data yet.</p>';
    return;
  }
  root.innerHTML = state.slos.map(renderSlo).join('');
}

function renderSlo(slo) {
  const judged = slo.dataState === 'ok' || slo.dataState === 'no_traffic';
  const firing = slo.firing
    ? `<span class="pill sev-${esc(slo.firing.severity)}">${esc(slo.firing.rule)} ${esc(burn(slo.firing.burnRate))}</span>`
    : judged
      ? '<span class="pill pill-ok">within budget</span>'
      : '';
  const dataNote = {
    ok: '',
    no_traffic: '<span class="pill pill-muted">no traffic</span>',
    no_data: '<span class="pill pill-bad">no data: agent silent</span>',
    partial: '<span class="pill pill-muted">warming up</span>',
  }[slo.dataState];
  const burns = Object.entries(slo.burnRates)
    .map(
      ([w, v]) =>
        `<span class="pill pill-muted">${esc(w)}: ${esc(burn(v))}</span>`,
    )
    .join('');
  const budget = slo.budgetRemainingRatio;
  const budgetBar =
    budget === null
      ? '<p class="muted">Error budget: no data.</p>'
      : `<p>Error budget left: ${(budget * 100).toFixed(1)}%</p><div class="budget"><div style="width:${Math.max(0, Math.min(100, budget * 100)).toFixed(1)}%"></div></div>`;
  return `<article class="card slo" data-slo="${esc(slo.slo)}">
    <div class="row"><h3>${esc(slo.slo)}</h3><span class="muted">${esc(slo.node)} · ${esc(slo.targetPercent)}% target</span>${firing}${dataNote ?? ''}</div>
    <div class="burns">${burns}</div>${budgetBar}${renderChart(slo.history)}
  </article>`;
}

function renderChart(history) {
  if (!history || history.length < 2) return '';
  const windows = Object.keys(history[history.length - 1].burnRates);
  const colors = ['#4f8fd6', '#d9a441', '#58b07b', '#c678dd', '#e0605e'];
  const t0 = history[0].atMs;
  const t1 = history[history.length - 1].atMs || t0 + 1;
  const maxBurn = Math.max(
    4,
    ...history.flatMap((p) =>
      Object.values(p.burnRates).filter((v) => v !== null),
    ),
  );
  const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * 300;
  const y = (v) => 100 - (v / maxBurn) * 100;
  const lines = windows.map((w, i) => {
    const pts = history
      .filter((p) => p.burnRates[w] !== null && p.burnRates[w] !== undefined)
      .map((p) => `${x(p.atMs).toFixed(1)},${y(p.burnRates[w]).toFixed(1)}`)
      .join(' ');
    return `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="1.5" points="${pts}"><title>${esc(w)}</title></polyline>`;
  });
  const one = `<line x1="0" x2="300" y1="${y(1)}" y2="${y(1)}" stroke="#8a9aab" stroke-dasharray="3 3" stroke-width="0.7"/>`;
  return `<svg class="chart" viewBox="0 0 300 100" preserveAspectRatio="none" aria-label="burn rate over time">${one}${lines.join('')}</svg>`;
}

// ---- incidents ----------------------------------------------------------------

function renderIncidents() {
  const root = document.getElementById('incidents');
  if (state.incidents.length === 0) {
    root.innerHTML = '<p class="muted">No incidents.</p>';
    return;
  }
  const sorted = [...state.incidents].sort((a, b) =>
    String(b.openedAt).localeCompare(String(a.openedAt)),
  );
  root.innerHTML = sorted.map(renderIncident).join('');
  for (const el of root.querySelectorAll('details.incident')) {
    el.addEventListener('toggle', () => {
      const id = el.dataset.id;
      if (el.open) {
        openIncidents.add(id);
        void loadPostmortem(id);
      } else openIncidents.delete(id);
    });
  }
}

function renderIncident(incident) {
  const trigger = incident.trigger
    ? `${incident.trigger.rule} (${Number(incident.trigger.burnRate).toFixed(1)}x in ${incident.trigger.window})`
    : '';
  const timeline = (incident.timeline ?? [])
    .slice(-30)
    .map(
      (t) =>
        `<li><time>${esc(String(t.at ?? t.atMs ?? '').slice(11, 19))}</time>${esc(t.text ?? t.message ?? t.kind ?? '')}</li>`,
    )
    .join('');
  const pm = postmortems.get(incident.id);
  return `<details class="card incident" data-id="${esc(incident.id)}" ${openIncidents.has(incident.id) ? 'open' : ''}>
    <summary class="row"><span class="pill sev-${esc(incident.severity)}">${esc(incident.severity)}</span>
      <strong>${esc(incident.id)}</strong><span>${esc(incident.title ?? '')}</span>
      <span class="pill ${incident.status === 'resolved' || incident.status === 'closed' ? 'pill-ok' : 'pill-bad'} incident-status">${esc(incident.status)}</span>
      <span class="muted">${esc(trigger)}</span></summary>
    ${incident.rootCause ? `<p><strong>Root cause:</strong> ${esc(incident.rootCause)}</p>` : ''}
    ${timeline ? `<ul class="events">${timeline}</ul>` : ''}
    <div class="postmortem">${pm ?? '<p class="muted">Postmortem loading…</p>'}</div>
  </details>`;
}

async function loadPostmortem(id) {
  const res = await fetch(
    `/api/incidents/${encodeURIComponent(id)}/postmortem.md`,
    {
      headers: authHeaders(),
    },
  );
  const html = res.ok
    ? renderMarkdown(await res.text())
    : '<p class="muted">No postmortem yet: it is written when the incident resolves.</p>';
  postmortems.set(id, html);
  const el = document.querySelector(
    `details.incident[data-id="${CSS.escape(id)}"] .postmortem`,
  );
  if (el) el.innerHTML = html;
}

// A small Markdown renderer for postmortems: headings, tables, lists,
// paragraphs, rules, bold, italics and code. Input is escaped first.
function renderMarkdown(text) {
  // Section markers are HTML comments: they keep human edits apart from
  // generated text and are not shown.
  const lines = text
    .replace(/\r/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .split('\n');
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^#{1,4} /.test(line)) {
      const level = line.indexOf(' ');
      out.push(`<h${level}>${inline(line.slice(level + 1))}</h${level}>`);
      i += 1;
    } else if (/^\|/.test(line)) {
      const rows = [];
      while (i < lines.length && /^\|/.test(lines[i])) rows.push(lines[i++]);
      out.push(renderTable(rows));
    } else if (/^(\d+\.|-|\*) /.test(line)) {
      const ordered = /^\d+\./.test(line);
      const items = [];
      while (i < lines.length && /^(\d+\.|-|\*) /.test(lines[i])) {
        items.push(
          `<li>${inline(lines[i].replace(/^(\d+\.|-|\*) /, ''))}</li>`,
        );
        i += 1;
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.join('')}</${tag}>`);
    } else if (/^---+\s*$/.test(line)) {
      out.push('<hr/>');
      i += 1;
    } else if (line.trim() === '') {
      i += 1;
    } else {
      const para = [];
      while (
        i < lines.length &&
        lines[i].trim() !== '' &&
        !/^(#|\||\d+\. |- |\* |---)/.test(lines[i])
      ) {
        para.push(lines[i++]);
      }
      if (para.length === 0) para.push(lines[i++]);
      out.push(`<p>${inline(para.join(' '))}</p>`);
    }
  }
  return out.join('\n');
}

function renderTable(rows) {
  const cells = (row) =>
    row
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const body = rows.filter((r) => !/^\|[\s:|-]+\|$/.test(r));
  const [head, ...rest] = body;
  const th = cells(head)
    .map((c) => `<th>${inline(c)}</th>`)
    .join('');
  const trs = rest
    .map(
      (r) =>
        `<tr>${cells(r)
          .map((c) => `<td>${inline(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

function inline(text) {
  return esc(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*]+)\*/g, '$1<em>$2</em>');
}

// ---- data -------------------------------------------------------------------

function readToken() {
  const match = /token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('gpuwarden-token', decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('gpuwarden-token');
}

function authHeaders() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function apply(delta) {
  if (delta.nodes) {
    state.nodes = delta.nodes;
    renderNodes();
  }
  if (delta.slos) {
    state.slos = delta.slos;
    renderSlos();
  }
  if (delta.incidents) {
    state.incidents = delta.incidents;
    for (const incident of delta.incidents) {
      if (openIncidents.has(incident.id)) void loadPostmortem(incident.id);
    }
    renderIncidents();
  }
}

function setFeed(kind, text) {
  const el = document.getElementById('feed-status');
  el.className = `pill pill-${kind}`;
  el.dataset.state = text;
  el.textContent = text;
}

function connect(attempt = 0) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  const ws = new WebSocket(`${scheme}://${location.host}/live${query}`);
  ws.onopen = () => {
    attempt = 0;
    setFeed('ok', 'live');
  };
  ws.onmessage = (event) => apply(JSON.parse(event.data));
  ws.onclose = () => {
    setFeed('bad', 'collector unreachable, retrying');
    const delayMs =
      Math.min(30000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
    setTimeout(() => connect(attempt + 1), delayMs);
  };
}

setInterval(() => {
  document.getElementById('clock').textContent =
    new Date().toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}, 1000);
connect();
