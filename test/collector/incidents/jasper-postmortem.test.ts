import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import type { Incident } from '../../../collector/src/incidents/incident.ts';
import { createHarness, play } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import { jasperStory } from './support/jasper-story.ts';

const SECTIONS = [
  '# Postmortem: ',
  '## Summary',
  '## Impact',
  '**Blast Radius:**',
  '**Single Points of Failure:**',
  '## Root Cause',
  '## Resolution',
  '## Lessons Learned',
  '### What went well',
  "### What didn't go well",
  '### Where we got lucky',
  '## Action Items',
  '\n---\n',
];

describe('Jasper postmortem', () => {
  let h: Harness;
  let incident: Incident;
  let markdown: string;

  before(async () => {
    h = await createHarness();
    await play(h, jasperStory());
    const [only] = h.manager.list();
    incident = only!;
    const written = await h.manager.postmortemMarkdown(incident.id);
    markdown = written.ok ? written.value : '';
  });

  after(() => h.cleanup());

  it('opens one SEV2 incident from slo_high_burn and resolves it when the rule cleared', () => {
    expect(h.manager.list()).to.have.length(1);
    expect(incident.id).to.match(/^INC-20260228-[0-9a-f]{4}$/);
    expect(incident.severity).to.equal('SEV2');
    expect(incident.status).to.equal('resolved');
    expect(incident.trigger).to.include({
      rule: 'slo_high_burn',
      burnRate: 3.2,
      window: 'rolling_1h',
    });
    expect(incident.openedAt).to.equal('2026-02-28T14:32:00Z');
    expect(incident.resolvedAt).to.equal('2026-02-28T14:45:00Z');
    expect(incident.durationSeconds).to.equal(13 * 60);
  });

  it('fills the summary table as the reference does', () => {
    expect(markdown).to.contain(`| **Incident ID** | ${incident.id} |`);
    expect(markdown).to.contain(
      '| **Title** | Ollama inference latency spike on Jasper |',
    );
    expect(markdown).to.contain('| **Severity** | SEV2 |');
    expect(markdown).to.contain(
      '| **Trigger** | slo_high_burn (3.2x in rolling_1h) |',
    );
    expect(markdown).to.contain('| **Duration** | 13 minutes |');
    expect(markdown).to.contain('| **Opened** | 2026-02-28T14:32:00Z |');
    expect(markdown).to.contain('| **Resolved** | 2026-02-28T14:45:00Z |');
    expect(markdown).to.contain(
      '| **SLO** | ollama_availability (99.5% target) |',
    );
  });

  it("keeps the reference's sections in its order", () => {
    const positions = SECTIONS.map((heading) => markdown.indexOf(heading));

    expect(positions).to.not.include(-1);
    expect([...positions].sort((a, b) => a - b)).to.deep.equal(positions);
  });

  it('names the process and its VRAM in the root cause', () => {
    expect(incident.rootCause).to.contain(
      'VS Code Remote Tunnel (`code-tunnel`, pid 41872) held 3.0 GiB of VRAM on GPU 0 (NVIDIA GeForce RTX 4090, 24.0 GiB)',
    );
    expect(incident.rootCause).to.contain('qwen2.5:32b needs 20.0 GiB');
    expect(markdown).to.contain(incident.rootCause);
  });

  it('lists the kill and the freed VRAM in the resolution steps', () => {
    const steps = markdown.split('## Resolution')[1]!.split('##')[0]!;

    expect(steps).to.match(
      /\d\. The guard killed VS Code Remote Tunnel \(`code-tunnel`, pid 41872\) \(SIGTERM\) at 2026-02-28T14:42:32Z/,
    );
    expect(steps).to.contain('VRAM freed: 3.0 GiB; 4.0 GiB free afterwards');
    expect(steps).to.contain('The SLO alert cleared at 2026-02-28T14:45:00Z');
  });

  it('names the blast radius and the single GPU as a single point of failure', () => {
    expect(incident.blastRadius).to.equal(
      'Jasper GPU inference (GPU 0, NVIDIA GeForce RTX 4090), all clients of Ollama on Jasper (model qwen2.5:32b)',
    );
    expect(incident.singlePointsOfFailure).to.deep.equal([
      'Single GPU (NVIDIA GeForce RTX 4090) handles all inference workloads on Jasper',
      'Jasper is the only node serving Ollama',
    ]);
  });

  it('writes the postmortem under the data directory', async () => {
    const file = h.manager.postmortemPath(incident.id)!;

    expect(file).to.equal(`${h.dir}/postmortems/${incident.id}.md`);
    expect(await readFile(file, 'utf8')).to.equal(markdown);
  });
});

describe('Jasper postmortem without a reservation policy', () => {
  let h: Harness;
  let markdown: string;

  before(async () => {
    h = await createHarness();
    await play(h, jasperStory({ reservation: false }));
    const [incident] = h.manager.list();
    const written = await h.manager.postmortemMarkdown(incident!.id);
    markdown = written.ok ? written.value : '';
  });

  after(() => h.cleanup());

  it('says no reservation policy existed and suggests one sized for the model', () => {
    expect(markdown).to.contain(
      '- No VRAM reservation policy existed for Ollama on Jasper',
    );
    expect(markdown).to.match(
      /\| 1 \| Create a VRAM reservation policy for Ollama on Jasper \(minimum 20 GiB\) \| TBD \| 2026-03-07 \| Planned \|/,
    );
  });

  it('still names the competing process from the guard breach', () => {
    expect(markdown).to.contain(
      'VS Code Remote Tunnel (`code-tunnel`, pid 41872) held 3.0 GiB',
    );
    expect(markdown).to.not.contain('The guard killed');
  });
});
