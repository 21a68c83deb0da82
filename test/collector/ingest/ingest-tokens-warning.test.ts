import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import { startTestIngest, writeToken } from '../../support/link-harness.ts';

describe('startIngestServer() tokens at start', () => {
  const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'gw-tokens-'));

  it('warns at start when no agent token exists, naming the tokens file', async () => {
    const dir = tempDir();
    const { logger, lines } = createMemoryLogger();
    const tokensFile = path.join(dir, 'agent-tokens');

    const ingest = await startTestIngest(dir, { tokensFile }, logger);
    await ingest.server.close();

    const warning = lines.find((l) => l.msg.startsWith('no agent tokens'));
    expect(warning?.level).to.equal(40);
    expect(warning?.tokensFile).to.equal(tokensFile);
  });

  it('does not warn when a token is known', async () => {
    const dir = tempDir();
    const { logger, lines } = createMemoryLogger();
    const token = writeToken(dir, 'jasper');

    const ingest = await startTestIngest(
      dir,
      { tokens: [{ node: 'jasper', tokenSha256: token.tokenSha256 }] },
      logger,
    );
    await ingest.server.close();

    expect(lines.some((l) => l.msg.startsWith('no agent tokens'))).to.equal(
      false,
    );
  });
});
