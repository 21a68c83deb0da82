import { expect } from 'chai';
import path from 'node:path';
import { loadCollectorConfig } from '../../../collector/src/config.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';

const EXAMPLE = path.resolve('deploy/collector.example.yaml');

describe('deploy/collector.example.yaml', () => {
  it('parses with every section set for the host jasper', async () => {
    const config = await loadCollectorConfig(EXAMPLE, createNodeFs());

    expect(config.dataDir).to.equal('/var/lib/gpuwarden-collector');
    expect(config.ingest.listen).to.deep.equal({ host: '0.0.0.0', port: 7410 });
    expect(config.ingest.tls?.certFile).to.match(/^\/etc\/gpuwarden\//);
    expect(config.ingest.tls?.keyFile).to.match(/^\/etc\/gpuwarden\//);
    expect(config.ingest.allowPlaintext).to.equal(false);
    expect(config.slo.slos.map((s) => s.name)).to.deep.equal([
      'ollama_availability',
    ]);
    expect(config.slo.slos[0]!.rules.map((r) => r.name)).to.deep.equal([
      'slo_critical_burn',
      'slo_high_burn',
      'slo_slow_burn',
    ]);
    expect(config.incidents.holdMs).to.equal(15 * 60_000);
    expect(config.incidents.notifications).to.have.length(2);
    expect(config.web.tokenFile).to.equal('/etc/gpuwarden/web.token');
  });
});
