/**
 * A real agent link in its own process, for restart tests:
 *
 *     node --import tsx test/support/link-agent-process.ts STATE_DIR ADDRESS TOKEN_FILE COUNT
 *
 * Starts a link client for node `jasper`, sends COUNT SLI events, waits
 * until they are all in the outbox on disk or acknowledged, then prints
 * one status JSON line per 100 ms (`STATUS {...}`) until killed.
 */
import { createSystemClock } from '../../shared/src/clock.ts';
import { createNodeFs } from '../../shared/src/fs.ts';
import { createLogger } from '../../shared/src/logger.ts';
import { createLinkClient } from '../../agent/src/link/link-client.ts';
import { testLinkConfig, sliPayload } from './link-harness.ts';

const [stateDir, address, tokenFile, countText] = process.argv.slice(2);
if (!stateDir || !address || !tokenFile || !countText) {
  console.error(
    'usage: link-agent-process.ts STATE_DIR ADDRESS TOKEN_FILE COUNT',
  );
  process.exit(2);
}
const clock = createSystemClock();
const client = createLinkClient(
  {
    node: 'jasper',
    agentVersion: '0.1.0',
    stateDir,
    config: testLinkConfig(address, tokenFile),
  },
  {
    clock,
    fs: createNodeFs(),
    logger: createLogger({ level: process.env.GPUWARDEN_TEST_LOG ?? 'error' }),
  },
);
await client.start();
for (let i = 0; i < Number(countText); i += 1) client.send(sliPayload(i));
setInterval(() => {
  console.log(`STATUS ${JSON.stringify(client.status())}`);
}, 100);
