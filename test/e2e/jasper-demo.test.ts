/**
 * The Jasper incident end to end: the demo runs headless (real collector,
 * real agent in enforce mode, fake GPU and Ollama) while a real Chromium
 * watches the dashboard. Slow by nature (about three minutes); it is the
 * one test that proves the whole chain.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { runDemo } from '../../demo/jasper-demo.ts';
import type { DemoSummary } from '../../demo/jasper-demo.ts';
import { isProcessAlive } from '../fakes/gpu-state.ts';

const CHROMIUM = process.env.GPUWARDEN_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-results');

describe('the Jasper demo, end to end', function () {
  this.timeout(8 * 60_000);
  let dir: string;
  let browser: Browser | null = null;
  let page: Page | null = null;
  const lines: string[] = [];
  const seen = {
    tunnelBarLive: false,
    incidentListed: false,
    postmortemRendered: false,
  };
  let summary: DemoSummary;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run scripts/install-system-deps.sh (it installs Debian's chromium)`,
      );
    }
    dir = mkdtempSync(path.join(os.tmpdir(), 'gpuwarden-demo-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const watching: Promise<void>[] = [];

    summary = await runDemo({
      dir,
      print: (line) => {
        lines.push(line);
        const dashboard = /dashboard: (\S+)/.exec(line);
        if (dashboard?.[1]) watching.push(openDashboard(dashboard[1]));
        const tunnel = /code-tunnel \(pid (\d+)\) starts/.exec(line);
        if (tunnel?.[1]) watching.push(watchTunnel(Number(tunnel[1])));
      },
      beforeStop: async () => {
        await Promise.all(watching);
        await checkIncidentInBrowser();
      },
    });
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openDashboard(url: string): Promise<void> {
    await page?.goto(url);
    await page?.waitForSelector('[data-node="jasper"] .vram', {
      timeout: 60_000,
    });
  }

  async function watchTunnel(pid: number): Promise<void> {
    await page?.waitForSelector(`.vram [data-pid="${pid}"]`, {
      timeout: 30_000,
    });
    seen.tunnelBarLive = true;
  }

  async function checkIncidentInBrowser(): Promise<void> {
    if (!page) return;
    const incident = page.locator('details.incident').first();
    await incident.waitFor({ timeout: 30_000 });
    seen.incidentListed = true;
    // The resolution arrives through the live feed, not a reload.
    await incident
      .locator('.incident-status', { hasText: /resolved|closed/ })
      .waitFor({ timeout: 30_000 });
    await incident.locator('summary').click();
    await page
      .locator('details.incident[open] .postmortem h2', {
        hasText: 'Root Cause',
      })
      .waitFor({ timeout: 30_000 });
    seen.postmortemRendered = true;
    await page.screenshot({
      path: path.join(ARTIFACTS, 'dashboard-jasper.png'),
      fullPage: true,
    });
  }

  it('opens a SEV2 slo_high_burn incident and resolves it by itself', () => {
    const { incident } = summary;

    expect(incident.severity).to.equal('SEV2');
    expect(incident.trigger?.rule).to.equal('slo_high_burn');
    expect(incident.trigger?.window).to.equal('rolling_2m');
    expect(incident.trigger?.burnRate).to.be.at.least(3).and.below(14.4);
    expect(['resolved', 'closed']).to.include(incident.status);
    expect(Date.parse(incident.resolvedAt ?? '')).to.be.above(
      Date.parse(incident.openedAt),
    );
  });

  it('tells the story in order: offload, incident, SIGTERM, freed, recovery', () => {
    const t = summary.timings;

    expect(t.offloadSeconds).to.be.a('number');
    expect(t.incidentOpenedSeconds).to.be.above(t.offloadSeconds ?? Infinity);
    expect(t.sigtermSeconds).to.be.above(t.incidentOpenedSeconds ?? Infinity);
    expect(t.freedSeconds).to.be.at.least(t.sigtermSeconds ?? Infinity);
    expect(t.recoveredSeconds).to.be.above(t.freedSeconds ?? Infinity);
  });

  it('writes a postmortem that names the process, its VRAM and the kill', () => {
    const pm = summary.postmortem;
    const pid = summary.pids.codeTunnel;

    expect(pm).to.contain(`| **Incident ID** | ${summary.incident.id} |`);
    expect(pm).to.contain('| **Severity** | SEV2 |');
    expect(pm).to.match(
      /\| \*\*Trigger\*\* \| slo_high_burn \(\d+\.\dx in rolling_2m\) \|/,
    );
    expect(pm).to.contain('| **SLO** | ollama_availability (99.5% target) |');
    const rootCause = pm.slice(
      pm.indexOf('## Root Cause'),
      pm.indexOf('## Resolution'),
    );
    expect(rootCause).to.contain('VS Code Remote Tunnel');
    expect(rootCause).to.contain(`pid ${pid}`);
    expect(rootCause).to.contain('3.0 GiB');
    const resolution = pm.slice(
      pm.indexOf('## Resolution'),
      pm.indexOf('## Lessons Learned'),
    );
    expect(resolution).to.contain(String(pid));
    expect(resolution).to.match(/SIGTERM|stopped|killed/);
  });

  it('kills code-tunnel and nothing else', () => {
    const signalled = summary.guardEvents.filter(
      (e) => e.kind === 'signal' || e.kind === 'kill',
    );

    expect(summary.alive.codeTunnel).to.equal(false);
    expect(isProcessAlive(summary.pids.codeTunnel)).to.equal(false);
    expect(summary.alive.xorg).to.equal(true);
    expect(summary.alive.ollama).to.equal(true);
    expect(signalled.length).to.be.at.least(1);
    expect(signalled.every((e) => e.pid === summary.pids.codeTunnel)).to.equal(
      true,
    );
  });

  it('loses no agent message', () => {
    const m = summary.messages;

    expect(m.recorded).to.be.above(50);
    expect(m.gaps).to.equal(0);
    expect(m.collectorLastSeq).to.be.at.least(m.lastSeq ?? Infinity);
    expect(m.collectorApplied).to.equal(
      (m.collectorLastSeq ?? 0) - (m.firstSeq ?? 0) + 1,
    );
  });

  it('shows it all live in a real browser', () => {
    expect(seen).to.deep.equal({
      tunnelBarLive: true,
      incidentListed: true,
      postmortemRendered: true,
    });
    expect(existsSync(path.join(ARTIFACTS, 'dashboard-jasper.png'))).to.equal(
      true,
    );
  });
});
