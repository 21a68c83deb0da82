import { expect } from 'chai';
import { ConfigNode } from '../../../shared/src/config.ts';
import { ConfigError } from '../../../shared/src/errors.ts';
import { parseOllamaConfig } from '../../../agent/src/ollama/ollama-config.ts';

const parse = (data: unknown) =>
  parseOllamaConfig(new ConfigNode(data, 'ollama', 'agent.yaml'));

describe('parseOllamaConfig()', () => {
  it('fills every default when the section is absent', () => {
    const config = parse(undefined);

    expect(config).to.deep.equal({
      enabled: true,
      url: 'http://127.0.0.1:11434',
      model: null,
      requestTimeoutMs: 2000,
      pollIntervalMs: 5000,
      latencyThresholdMs: 2000,
      sliIntervalMs: 60_000,
      unit: 'ollama',
      reloadWarningMs: 120_000,
      harmWindowMs: 300_000,
      probe: {
        enabled: true,
        intervalMs: 30_000,
        timeoutMs: 30_000,
        prompt: 'Reply with OK.',
        options: { num_predict: 1, temperature: 0, seed: 7 },
        think: null,
      },
      log: { source: 'journald', unit: 'ollama', path: null, timeZone: null },
    });
  });

  it('reads every key with its unit', () => {
    const config = parse({
      url: 'http://10.0.0.5:11434/',
      model: 'qwen2.5:32b',
      timeout: '1s',
      pollInterval: '2s',
      latencyThreshold: '1s',
      sliInterval: '30s',
      unit: null,
      reloadWarning: '5m',
      harmWindow: '2m',
      probe: {
        interval: '1m',
        options: { top_k: 1, stop: ['\n'] },
        think: false,
      },
      log: { source: 'file', path: '/var/log/ollama.log', timeZone: 'UTC' },
    });

    expect(config).to.deep.include({
      url: 'http://10.0.0.5:11434',
      model: 'qwen2.5:32b',
      requestTimeoutMs: 1000,
      latencyThresholdMs: 1000,
      unit: null,
    });
    expect(config.probe.options).to.deep.equal({
      num_predict: 1,
      temperature: 0,
      seed: 7,
      top_k: 1,
      stop: ['\n'],
    });
    expect(config.probe.think).to.equal(false);
    expect(config.log.path).to.equal('/var/log/ollama.log');
  });

  const rejects: [string, unknown, string][] = [
    [
      'a runner option in the probe',
      { probe: { options: { num_ctx: 8192 } } },
      'ollama.probe.options.num_ctx is not a sampling option',
    ],
    [
      'keep_alive in the probe',
      { probe: { options: { keep_alive: -1 } } },
      'ollama.probe.options.keep_alive is not a sampling option',
    ],
    [
      'a threshold between buckets',
      { latencyThreshold: '1800ms' },
      'ollama.latencyThreshold must be one of 50ms',
    ],
    [
      'a file source without a path',
      { log: { source: 'file' } },
      'ollama.log.path must name the log file',
    ],
    [
      'an unknown zone',
      { log: { timeZone: 'Mars/Base' } },
      'ollama.log.timeZone must be an IANA time zone',
    ],
    [
      'a URL that is not http',
      { url: 'ftp://x' },
      'ollama.url must be an http:// or https:// URL',
    ],
    ['an unknown key', { modle: 'x' }, 'ollama.modle is not a known setting'],
  ];
  for (const [what, data, message] of rejects) {
    it(`rejects ${what}`, () => {
      expect(() => parse(data)).to.throw(ConfigError, message);
    });
  }
});
