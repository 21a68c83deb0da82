import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  createIncidentsCommand,
  fetchHttp,
} from '../../../collector/src/incidents/incidents-cli.ts';
import { runCli } from '../../../shared/src/cli.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createHarness, play } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import { HIGH_BURN, ms, verdict } from './support/jasper-story.ts';

/** A stand-in for the collector's REST API over a real manager. */
function serveApi(h: Harness): Server {
  return createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += String(chunk)));
    req.on('end', () => {
      void (async () => {
        const [, , , id, action] = (req.url ?? '').split('/');
        const send = (status: number, body: unknown) =>
          res.writeHead(status).end(JSON.stringify(body));
        if (!id) return send(200, { incidents: h.manager.list() });
        if (req.headers.authorization !== 'Bearer s3cret')
          return send(401, { error: { message: 'bad token' } });
        const body = JSON.parse(text || '{}') as {
          by: string;
          note: string | null;
        };
        const result =
          action === 'ack'
            ? await h.manager.ack(id, body.by, body.note ?? undefined)
            : await h.manager.resolve(id, body.by);
        if (result.ok) return send(200, result.value);
        send(result.error.code === 'not_found' ? 404 : 409, {
          error: { message: result.error.message },
        });
      })();
    });
  });
}

describe('gpuwarden-collector incidents', () => {
  let h: Harness;
  let server: Server;
  let url: string;
  let tokenFile: string;
  let tmp: string;

  before(async () => {
    h = await createHarness();
    const atMs = ms('2026-02-28T14:32:00Z');
    await play(h, [
      { atMs, messages: [], states: [verdict(atMs, HIGH_BURN(3.2))] },
    ]);
    server = serveApi(h);
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    tmp = await mkdtemp(path.join(os.tmpdir(), 'gpuwarden-cli-'));
    tokenFile = path.join(tmp, 'token');
    await writeFile(tokenFile, 's3cret\n');
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const command = createIncidentsCommand({
      fs: createNodeFs(),
      http: fetchHttp,
      nowMs: () => h.clock.nowMs(),
    });
    const code = await runCli(
      {
        program: 'gpuwarden-collector',
        version: '0',
        description: '',
        commands: { incidents: command },
      },
      ['incidents', ...args],
      { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
    );
    return { code, out: out.join(''), err: err.join('') };
  }

  it('lists incidents as a table', async () => {
    const { code, out } = await cli('list', '--url', url);

    expect(code).to.equal(0);
    expect(out).to.match(/^ID\s+SEV\s+STATUS/);
    expect(out).to.contain('SEV2  open');
  });

  it('acknowledges with the token and refuses a second ack with the API message', async () => {
    const id = h.manager.list()[0]!.id;

    const first = await cli(
      'ack',
      id,
      '--url',
      url,
      '--token-file',
      tokenFile,
      '--by',
      'ops',
    );
    const second = await cli(
      'ack',
      id,
      '--url',
      url,
      '--token-file',
      tokenFile,
    );

    expect(first).to.include({
      code: 0,
      out: `${id}: it is acknowledged now\n`,
    });
    expect(second.code).to.equal(1);
    expect(second.err).to.contain('collector answered 409: incident');
  });

  it('adds a note and says so', async () => {
    const id = h.manager.list()[0]!.id;

    const result = await cli(
      'note',
      id,
      '--note',
      'restarted the tunnel elsewhere',
      '--url',
      url,
      '--token-file',
      tokenFile,
    );

    expect(result.code).to.equal(0);
    expect(result.out).to.match(
      new RegExp(`^${id}: note added; it is \\w+ now\\n$`),
    );
  });

  it('says what is missing in one line with exit code 2', async () => {
    const { code, err } = await cli('ack', 'INC-20260228-0000', '--url', url);

    expect(code).to.equal(2);
    expect(err).to.equal(
      "gpuwarden-collector incidents: ack needs --token-file with the collector's web token\n",
    );
  });
});
