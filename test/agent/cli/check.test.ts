import { expect } from 'chai';
import { runCli } from '../../../shared/src/cli.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { createExec } from '../../../shared/src/exec.ts';
import { createCheckCommand } from '../../../agent/src/cli/check.ts';
import type { CheckReport } from '../../../agent/src/guard/check-report.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { FakeHost, gnomeShell, tunnelChild, xorg } from '../guard/fake-host.ts';
import { MemoryFs } from '../guard/memory-fs.ts';

const CONFIG = `
node: jasper
guard:
  mode: enforce
  reservations:
    - gpu: 0
      reserve: 20480MiB
      model: qwen2.5:32b
  eligible:
    users: [dev]
`;

function setup(configText = CONFIG) {
  const clock = new FakeClock('2026-03-02T13:47:00Z');
  const fs = new MemoryFs();
  fs.files.set('/etc/gpuwarden/agent.yaml', configText);
  const host = new FakeHost(
    [tunnelChild(), xorg(), gnomeShell()],
    { unattributedMib: 300 },
    () => clock.nowMs(),
  );
  const out: string[] = [];
  const errOut: string[] = [];
  const command = createCheckCommand({
    clock,
    exec: createExec(),
    fs,
    logger: createSilentLogger(),
    hostname: () => 'jasper',
    self: { pid: 999_999, ppid: 999_998 },
    sample: host.sample,
  });
  const run = (args: string[]) =>
    runCli(
      {
        program: 'gpuwarden-agent',
        version: '0',
        description: '',
        commands: { check: command },
      },
      ['check', ...args],
      {
        stdout: (t) => void out.push(t),
        stderr: (t) => void errOut.push(t),
      },
    );
  return { fs, host, out, errOut, run };
}

describe('gpuwarden-agent check', () => {
  it('prints the plan and the reason for every process', async () => {
    const s = setup();

    const code = await s.run(['--config', '/etc/gpuwarden/agent.yaml']);

    expect(code).to.equal(0);
    const text = s.out.join('');
    expect(text).to.contain('deficit 210 MiB');
    expect(text).to.contain('would send SIGTERM, then SIGKILL, to pid 77310');
    expect(text).to.match(/77310 .*victim: chosen/);
    expect(text).to.match(/1420 .*excluded: display_server/);
    expect(s.host.signals).to.deep.equal([]);
  });

  it('gives the same as JSON', async () => {
    const s = setup();

    await s.run(['--config', '/etc/gpuwarden/agent.yaml', '--json']);

    const report = JSON.parse(s.out.join('')) as CheckReport;
    const gpu = report.gpus[0];
    expect(gpu?.wouldDo).to.equal('kill');
    expect(gpu?.math?.deficitBytes).to.equal(210 * 2 ** 20);
    expect(gpu?.processes.map((p) => [p.pid, p.role])).to.deep.equal([
      [77310, 'victim'],
      [1420, 'excluded'],
      [2113, 'excluded'],
    ]);
  });

  it('shows warn when the kill-switch file exists', async () => {
    const s = setup();
    s.fs.files.set('/etc/gpuwarden/disable-enforce', '');

    await s.run(['--config', '/etc/gpuwarden/agent.yaml', '--json']);

    const report = JSON.parse(s.out.join('')) as CheckReport;
    expect(report.killSwitch).to.equal(true);
    expect(report.gpus[0]?.mode).to.equal('warn');
    expect(report.gpus[0]?.wouldDo).to.equal('warn');
  });

  it('exits 2 naming the field when the guard config is bad', async () => {
    const s = setup(CONFIG.replace('mode: enforce', 'mode: kill-all'));

    const code = await s.run(['--config', '/etc/gpuwarden/agent.yaml']);

    expect(code).to.equal(2);
    expect(s.errOut.join('')).to.contain(
      'guard.mode must be one of observe, warn, enforce-term, enforce, got "kill-all"',
    );
  });

  it('rejects an unknown top-level key as run does', async () => {
    const s = setup(`${CONFIG}gaurd:\n  mode: enforce\n`);

    const code = await s.run(['--config', '/etc/gpuwarden/agent.yaml']);

    expect(code).to.equal(2);
    expect(s.errOut.join('')).to.contain(
      'gaurd is not a known setting; check its spelling and place',
    );
    expect(s.out.join('')).to.equal('');
  });

  it('validates the sections it does not use, as run does', async () => {
    const s = setup(`${CONFIG}ollama:\n  url: not-a-url\n`);

    const code = await s.run(['--config', '/etc/gpuwarden/agent.yaml']);

    expect(code).to.equal(2);
    expect(s.errOut.join('')).to.contain('ollama.url must be an http://');
  });

  it('accepts a full agent config with every section', async () => {
    const s = setup(
      `${CONFIG}stateDir: /var/lib/gpuwarden-agent\nlogLevel: warn\nsampling:\n  source: nvml\nollama:\n  url: http://127.0.0.1:11434\n`,
    );

    const code = await s.run(['--config', '/etc/gpuwarden/agent.yaml']);

    expect(code).to.equal(0);
    expect(s.out.join('')).to.contain('would send SIGTERM');
  });

  it('exits 2 naming the path when the config file cannot be read', async () => {
    const s = setup();

    const code = await s.run(['--config', '/etc/gpuwarden/missing.yaml']);

    expect(code).to.equal(2);
    expect(s.errOut).to.deep.equal([
      'gpuwarden-agent check: cannot read config file /etc/gpuwarden/missing.yaml: no such file; check the --config path\n',
    ]);
  });

  it('exits 1 with one line naming the config keys when no GPU can be read', async () => {
    const errOut: string[] = [];
    const fs = new MemoryFs();
    const config = `${CONFIG}sampling:\n  nvmlLibraryPath: /nonexistent/libnvidia-ml.so.1\n  nvidiaSmiPath: /nonexistent/nvidia-smi\n`;
    fs.files.set('/etc/gpuwarden/agent.yaml', config);
    const command = createCheckCommand({
      clock: new FakeClock(),
      exec: createExec(),
      fs,
      logger: createSilentLogger(),
      hostname: () => 'jasper',
      self: { pid: 999_999, ppid: 999_998 },
    });
    const io = {
      stdout: () => undefined,
      stderr: (t: string) => errOut.push(t),
    };
    const options = {
      program: 'gpuwarden-agent',
      version: '0',
      description: '',
      commands: { check: command },
    };

    const code = await runCli(
      options,
      ['check', '--config', '/etc/gpuwarden/agent.yaml'],
      io,
    );

    expect(code).to.equal(1);
    expect(errOut).to.deep.equal([
      'gpuwarden-agent check: no NVIDIA GPU or driver found on this host (/nonexistent/libnvidia-ml.so.1 not loadable, /nonexistent/nvidia-smi not found); check sampling.nvmlLibraryPath and sampling.nvidiaSmiPath, or install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU\n',
    ]);
  });

  it('exits 2 naming a flag given twice', async () => {
    const s = setup();

    const code = await s.run(['--config', 'a.yaml', '--config', 'b.yaml']);

    expect(code).to.equal(2);
    expect(s.errOut).to.deep.equal([
      'gpuwarden-agent check: --config given twice; give it once\n',
    ]);
  });

  it('exits 2 without --config', async () => {
    const s = setup();

    const code = await s.run([]);

    expect(code).to.equal(2);
    expect(s.errOut.join('')).to.contain('--config FILE is required');
  });
});
