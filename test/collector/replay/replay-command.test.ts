import { expect } from 'chai';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replayCommand } from '../../../collector/src/replay/replay-command.ts';
import { formatReplaySummary } from '../../../collector/src/replay/replay-summary.ts';
import type { ReplaySummary } from '../../../collector/src/replay/replay-summary.ts';
import { runCli } from '../../../shared/src/cli.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { sliPayload } from '../../support/jasper-stream.ts';
import { JASPER_FIXTURE_PATH } from '../../support/jasper-write-fixture.ts';

async function replay(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    {
      program: 'gpuwarden-collector',
      version: 'test',
      description: 'test',
      commands: {
        replay: replayCommand({
          fs: createNodeFs(),
          logger: createSilentLogger(),
        }),
      },
    },
    ['replay', ...args],
    { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
  );
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('gpuwarden-collector replay', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gpuwarden-replay-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens and resolves the Jasper incident from the recorded stream', async () => {
    const outDir = path.join(dir, 'out');

    const result = await replay([
      JASPER_FIXTURE_PATH,
      '--out',
      outDir,
      '--json',
    ]);

    expect(result.code, result.stderr).to.equal(0);
    const summary = JSON.parse(result.stdout) as ReplaySummary;
    expect(summary.nodes).to.deep.equal(['jasper']);
    expect(summary.incidents).to.have.length(1);
    const [incident] = summary.incidents;
    expect(incident).to.include({
      severity: 'SEV2',
      node: 'jasper',
      slo: 'ollama_availability',
      openedAt: '2026-02-28T14:32:00Z',
      resolvedAt: '2026-02-28T14:37:10Z',
      durationSeconds: 310,
    });
    expect(incident?.id).to.match(/^INC-20260228-[0-9a-f]{4}$/);
    expect(incident?.trigger.rule).to.equal('slo_high_burn');
    expect(incident?.trigger.window).to.equal('rolling_1h');
    expect(incident?.trigger.burnRate.toFixed(1)).to.equal('3.2');
    const markdown = readFileSync(incident!.postmortemPath!, 'utf8');
    expect(markdown).to.include('slo_high_burn (3.2x in rolling_1h)');
    expect(formatReplaySummary(summary)).to.match(
      /INC-20260228-[0-9a-f]{4} {2}SEV2 {2}slo_high_burn \(3\.2x in rolling_1h\) {2}opened 2026-02-28T14:32:00Z {2}resolved 2026-02-28T14:37:10Z {2}5m10s {2}postmortem /,
    );
  });

  it('names the line of a bad message and writes nothing', async () => {
    const file = path.join(dir, 'bad.jsonl');
    const good = JSON.stringify(message(1, Date.parse('2026-02-28T14:00:00Z')));
    writeFileSync(file, `${good}\n\n{"node":"jasper","seq":2}\n`);
    const outDir = path.join(dir, 'out');

    const result = await replay([file, '--out', outDir]);

    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal(
      `gpuwarden-collector replay: ${file} line 3: sentAtMs must be a time in ms; fix or remove that line (each line must be one AgentMessage as JSON)\n`,
    );
    expect(existsSync(outDir)).to.equal(false);
  });

  it('refuses an output directory that already holds files', async () => {
    const outDir = path.join(dir, 'used');
    mkdirSync(outDir);
    writeFileSync(path.join(outDir, 'incidents.json'), '{}');

    const result = await replay([JASPER_FIXTURE_PATH, '--out', outDir]);

    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('already holds files');
    expect(readFileSync(path.join(outDir, 'incidents.json'), 'utf8')).to.equal(
      '{}',
    );
  });

  it('runs shortened demo windows from --config with the same rule names', async () => {
    const config = path.join(dir, 'demo.yaml');
    writeFileSync(
      config,
      [
        'slos:',
        '  - name: ollama_availability',
        '    bucketWidth: 5s',
        '    period: 1h',
        '    rules:',
        '      - {name: slo_high_burn, severity: SEV2, burnRate: 3, longWindow: 2m, shortWindow: 10s}',
        'incidents:',
        '  holdPeriod: 30s',
        '',
      ].join('\n'),
    );
    const file = path.join(dir, 'demo.jsonl');
    const startMs = Date.parse('2026-02-28T14:00:00Z');
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify(
        message(i + 1, startMs + (i + 1) * 5000, i >= 30 && i < 40),
      ),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);

    const result = await replay([
      file,
      '--config',
      config,
      '--out',
      path.join(dir, 'o'),
      '--json',
    ]);

    expect(result.code, result.stderr).to.equal(0);
    const summary = JSON.parse(result.stdout) as ReplaySummary;
    expect(
      summary.incidents.map((i) => [i.trigger.rule, i.trigger.window]),
    ).to.deep.equal([['slo_high_burn', 'rolling_2m']]);
    expect(summary.incidents[0]?.resolvedAt).to.not.equal(null);
  });

  it('validates --config like the collector does, unknown keys included', async () => {
    const config = path.join(dir, 'typo.yaml');
    writeFileSync(config, 'incidnets:\n  holdPeriod: 30s\n');

    const result = await replay([JASPER_FIXTURE_PATH, '--config', config]);

    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('incidnets is not a known setting');
  });

  it('asks for exactly one FILE', async () => {
    const result = await replay([]);

    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('give exactly one recorded stream FILE');
  });
});

function message(seq: number, sentAtMs: number, slow = false): AgentMessage {
  const latencies = new Array<number>(10).fill(slow ? 2500 : 300);
  return {
    node: 'jasper',
    seq,
    sentAtMs,
    payload: sliPayload(sentAtMs - 5000, sentAtMs, latencies),
  };
}
