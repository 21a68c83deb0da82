/**
 * A real collector ingest in its own process, for crash tests:
 *
 *     node --import tsx test/support/ingest-process.ts DIR PORT TOKENS_FILE
 *
 * Journal under DIR/journal; the sink appends `node seq` lines to
 * DIR/sink.log. Prints `PORT <n>` once listening; exits on SIGTERM after
 * closing cleanly (SIGKILL is the point of the tests).
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { createSystemClock } from '../../shared/src/clock.ts';
import { createNodeFs } from '../../shared/src/fs.ts';
import { createLogger } from '../../shared/src/logger.ts';
import { FleetState } from '../../collector/src/ingest/fleet-state.ts';
import { startIngestServer } from '../../collector/src/ingest/ingest-server.ts';

const [dir, portText, tokensFile] = process.argv.slice(2);
if (!dir || !portText || !tokensFile) {
  console.error('usage: ingest-process.ts DIR PORT TOKENS_FILE');
  process.exit(2);
}
const sinkFile = path.join(dir, 'sink.log');
const server = await startIngestServer(
  {
    listen: { host: '127.0.0.1', port: Number(portText) },
    tls: null,
    allowPlaintext: false,
    tokensFile,
    maxMessageBytes: 4 * 1024 * 1024,
    rateLimit: { messagesPerSecond: 100_000, burstMessages: 100_000 },
    journal: {
      dir: path.join(dir, 'journal'),
      segmentBytes: 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
    },
  },
  {
    clock: createSystemClock(),
    logger: createLogger({ level: process.env.GPUWARDEN_TEST_LOG ?? 'error' }),
    fs: createNodeFs(),
    fleet: new FleetState(),
    sink: {
      apply: (node, messages) =>
        appendFile(
          sinkFile,
          messages.map((m) => `${node} ${m.seq}\n`).join(''),
        ),
    },
  },
);
console.log(`PORT ${server.port}`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
