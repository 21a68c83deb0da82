import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createIncidentManager } from '../../../collector/src/incidents/manager.ts';
import type { IncidentManager } from '../../../collector/src/incidents/manager-types.ts';
import type { Incident } from '../../../collector/src/incidents/incident.ts';
import { runReplay } from '../../../collector/src/replay/replay.ts';
import { defaultSlo } from '../../../collector/src/slo/slo-config.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { buildJasperStream, JASPER } from '../../support/jasper-stream.ts';

const isoSeconds = (atMs: number): string =>
  new Date(atMs).toISOString().replace('.000Z', 'Z');

describe('Jasper replay through the engine and the incident manager', () => {
  let dir: string;
  let manager: IncidentManager;
  let incident: Incident;
  let markdown: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gpuwarden-jasper-'));
    const fs = createNodeFs();
    const logger = createSilentLogger();
    const run = await runReplay(
      { messages: buildJasperStream(), slos: [defaultSlo()] },
      {
        logger,
        fs,
        createIncidents: (clock) =>
          createIncidentManager({ dataDir: dir }, { clock, logger, fs }),
      },
    );
    manager = run.incidents;
    incident = manager.list()[0]!;
    const written = await manager.postmortemMarkdown(incident.id);
    markdown = written.ok ? written.value : '';
  });

  after(async () => {
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens one SEV2 slo_high_burn incident when the rule fires', () => {
    expect(manager.list()).to.have.length(1);
    expect(incident.severity).to.equal('SEV2');
    expect(incident.openedAt).to.equal(isoSeconds(JASPER.expectedOpenMs));
    expect(markdown).to.contain(
      '| **Trigger** | slo_high_burn (3.2x in rolling_1h) |',
    );
  });

  it('resolves at the time the rule cleared, once clear for the hold', () => {
    expect(incident.status).to.equal('resolved');
    expect(incident.resolvedAt).to.equal(isoSeconds(JASPER.expectedClearMs));
    expect(incident.durationSeconds).to.equal(
      (JASPER.expectedClearMs - JASPER.expectedOpenMs) / 1000,
    );
    expect(markdown).to.contain('| **Duration** | 5 minutes |');
  });

  it('names the tunnel and its VRAM in the root cause', () => {
    expect(incident.rootCause).to.contain(
      'VS Code Remote Tunnel (`code-tunnel`, pid 41872) held 3.0 GiB of VRAM on GPU 0 (NVIDIA GeForce RTX 4090, 24.0 GiB)',
    );
  });

  it('puts the kill and the freed VRAM in the resolution steps', () => {
    const resolution = incident.remediation.join('\n');

    expect(resolution).to.match(
      /The guard killed VS Code Remote Tunnel \(`code-tunnel`, pid 41872\)/,
    );
    expect(resolution).to.contain('VRAM freed: 3.0 GiB');
  });
});
