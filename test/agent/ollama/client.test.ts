import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  OllamaClient,
  classifyFetchError,
} from '../../../agent/src/ollama/client.ts';
import type { FetchPort } from '../../../agent/src/ollama/client.ts';

const realFetch = globalThis.fetch as unknown as FetchPort;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('OllamaClient', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function serve(
    handler: Parameters<typeof createServer>[1],
  ): Promise<OllamaClient> {
    const server = createServer(handler);
    servers.push(server);
    const url = await listen(server);
    return new OllamaClient(
      { url, timeoutMs: 100 },
      { fetch: realFetch, nowMs: () => 0 },
    );
  }

  it('reads /api/version', async () => {
    const client = await serve((_req, res) => res.end('{"version":"0.12.6"}'));

    expect(await client.version()).to.deep.equal({ ok: true, value: '0.12.6' });
  });

  it('classifies a closed port as refused', async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const client = new OllamaClient(
      { url, timeoutMs: 300 },
      { fetch: realFetch, nowMs: () => 0 },
    );

    const answer = await client.ps();

    expect(answer).to.deep.equal({
      ok: false,
      error: { kind: 'refused', status: null, message: 'connection refused' },
    });
  });

  it('classifies a server that never answers as a timeout', async () => {
    const client = await serve(() => undefined);

    const answer = await client.ps();

    expect(answer.ok === false && answer.error.kind).to.equal('timeout');
  });

  it("carries Ollama's error text for HTTP errors", async () => {
    const client = await serve((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        '{"error":"llama runner process has terminated: CUDA error: out of memory"}',
      );
    });

    const answer = await client.generate({ model: 'm', prompt: 'x' }, 300);

    expect(answer).to.deep.equal({
      ok: false,
      error: {
        kind: 'http',
        status: 500,
        message:
          'llama runner process has terminated: CUDA error: out of memory',
      },
    });
  });

  it('calls an answer that is not the API bad_response', async () => {
    const client = await serve((_req, res) =>
      res.end('<html>proxy login</html>'),
    );

    const answer = await client.ps();

    expect(answer.ok === false && answer.error.kind).to.equal('bad_response');
  });

  it('sends generate with stream false and nothing it was not given', async () => {
    let body = '';
    const client = await serve((req, res) => {
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => res.end('{"done":true,"done_reason":"stop"}'));
    });

    await client.generate({ model: 'm', prompt: 'x' }, 300);

    expect(JSON.parse(body)).to.deep.equal({
      model: 'm',
      prompt: 'x',
      stream: false,
    });
  });
});

describe('classifyFetchError()', () => {
  it('sorts what fetch throws', () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'ECONNREFUSED' },
    });
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'ECONNRESET' },
    });
    const timeout = new DOMException('aborted', 'TimeoutError');
    const headers = Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'UND_ERR_HEADERS_TIMEOUT' },
    });

    expect(
      [refused, reset, timeout, headers].map(
        (e) => classifyFetchError(e, 100).kind,
      ),
    ).to.deep.equal(['refused', 'network', 'timeout', 'timeout']);
  });
});
