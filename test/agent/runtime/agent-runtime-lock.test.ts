import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAgentConfig } from '../../../agent/src/config.ts';
import { createAgentRuntime } from '../../../agent/src/runtime/agent-runtime.ts';
import type { AgentRuntime } from '../../../agent/src/runtime/agent-runtime.ts';
import { exitCodeFor } from '../../../shared/src/errors.ts';
import { createExec } from '../../../shared/src/exec.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import { FakeClock } from '../../support/fake-clock.ts';

describe('agent runtime state directory lock', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gw-agent-lock-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A standalone agent that samples nothing (no GPU, no Ollama). */
  const agent = (): AgentRuntime => {
    const config = parseAgentConfig(
      {
        node: 'jasper',
        stateDir: 'state',
        ollama: { enabled: false },
        sampling: {
          source: 'nvidia-smi',
          nvidiaSmiPath: path.join(dir, 'no-nvidia-smi'),
        },
      },
      'test',
      dir,
    );
    return createAgentRuntime(
      {
        config,
        recordFile: null,
        agentVersion: '0.1.0',
        host: { os: null, kernel: null, cpu: null, memoryBytes: null },
      },
      {
        clock: new FakeClock(),
        logger: createSilentLogger(),
        exec: createExec(),
        fs: createNodeFs(),
        self: { pid: process.pid, ppid: process.ppid },
      },
    );
  };

  it('refuses a second agent on the same stateDir until the first stops', async () => {
    const first = agent();
    await first.start();
    const lockText = await readFile(path.join(dir, 'state', '.lock'), 'utf8');

    const refused = await agent()
      .start()
      .then(
        () => null,
        (e: unknown) => e,
      );
    await first.stop();
    const third = agent();
    await third.start();
    await third.stop();

    expect(JSON.parse(lockText)).to.include({
      pid: process.pid,
      name: 'agent',
    });
    expect(exitCodeFor(refused)).to.equal(1);
    expect((refused as Error).message).to.equal(
      `another gpuwarden agent (pid ${process.pid}) is using ${path.join(dir, 'state')}; stop it, or give this one another stateDir`,
    );
  });

  it('removes its lock file on stop', async () => {
    const one = agent();
    await one.start();
    await one.stop();

    const left = await readFile(path.join(dir, 'state', '.lock')).catch(
      () => null,
    );

    expect(left).to.equal(null);
  });
});
