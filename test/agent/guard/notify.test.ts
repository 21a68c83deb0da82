import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSilentLogger } from '../../../shared/src/logger.ts';
import type { Exec } from '../../../shared/src/exec.ts';
import type { GuardEvent } from '../../../shared/src/messages.ts';
import { createHookNotifier } from '../../../agent/src/guard/notify.ts';

const EVENT: GuardEvent = {
  atMs: 0,
  kind: 'warning',
  gpuUuid: 'GPU-1',
  state: 'hard_breach',
  mode: 'warn',
  message: 'python3 (pid 77310, dev) holds 3.0 GiB',
  reservedBytes: 1,
  protectedBytes: 0,
  freeBytes: 0,
  deficitBytes: 1,
  process: {
    pid: 77310,
    name: 'python3',
    user: 'dev',
    unit: null,
    command: null,
    usedBytes: 3,
  },
  freedBytes: null,
  signal: null,
  policyHash: 'h',
  details: {},
};

describe('createHookNotifier()', () => {
  it('runs the command with the event on stdin and who/what in the environment', async () => {
    const calls: Parameters<Exec>[] = [];
    const exec: Exec = async (...args) => {
      calls.push(args);
      return {
        exitCode: 0,
        signal: null,
        timedOut: false,
        stdout: Buffer.alloc(0),
        stderr: '',
        spawnError: null,
        durationMs: 1,
      };
    };
    const notify = createHookNotifier(
      {
        command: ['/usr/local/bin/page', '--gpu'],
        webhook: null,
        timeoutMs: 5000,
      },
      { exec, fetch, logger: createSilentLogger() },
    );

    await notify(EVENT);

    const [file, args, options] = calls[0]!;
    expect([file, args]).to.deep.equal(['/usr/local/bin/page', ['--gpu']]);
    expect(JSON.parse(options.input ?? '')).to.deep.equal(EVENT);
    expect(options.env).to.include({
      GPUWARDEN_EVENT_KIND: 'warning',
      GPUWARDEN_PID: '77310',
      GPUWARDEN_USER: 'dev',
    });
    expect(options.timeoutMs).to.equal(5000);
  });

  it('posts the event to the webhook', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const notify = createHookNotifier(
        {
          command: null,
          webhook: `http://127.0.0.1:${port}/hook`,
          timeoutMs: 2000,
        },
        {
          exec: async () => {
            throw new Error('no exec');
          },
          fetch,
          logger: createSilentLogger(),
        },
      );

      await notify(EVENT);

      expect(bodies.map((b) => JSON.parse(b) as GuardEvent)).to.deep.equal([
        EVENT,
      ]);
    } finally {
      server.close();
    }
  });
});
