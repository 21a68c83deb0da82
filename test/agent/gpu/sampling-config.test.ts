import { expect } from 'chai';
import {
  effectiveIntervalMs,
  parseSamplingConfig,
} from '../../../agent/src/gpu/sampling-config.ts';
import { DEFAULT_SMI_TIMEOUT_MS } from '../../../agent/src/gpu/smi-source.ts';
import { ConfigNode } from '../../../shared/src/config.ts';
import { ConfigError } from '../../../shared/src/errors.ts';

const parse = (data: unknown) =>
  parseSamplingConfig(new ConfigNode(data, 'sampling', 'agent.yaml'));

describe('parseSamplingConfig()', () => {
  it('fills every default for an absent section', () => {
    expect(parse(undefined)).to.deep.equal({
      source: 'auto',
      intervalMs: null,
      nvidiaSmiPath: 'nvidia-smi',
      nvmlLibraryPath: 'libnvidia-ml.so.1',
      smiTimeoutMs: DEFAULT_SMI_TIMEOUT_MS,
    });
  });

  it('reads durations, paths and a forced source', () => {
    const config = parse({
      source: 'nvidia-smi',
      interval: '5s',
      nvidiaSmiPath: '/usr/bin/nvidia-smi',
      nvmlLibraryPath: '/opt/nvidia/libnvidia-ml.so.1',
      smiTimeout: '30s',
    });

    expect(config).to.deep.equal({
      source: 'nvidia-smi',
      intervalMs: 5000,
      nvidiaSmiPath: '/usr/bin/nvidia-smi',
      nvmlLibraryPath: '/opt/nvidia/libnvidia-ml.so.1',
      smiTimeoutMs: 30_000,
    });
  });

  it('names the field, the rule and the value for a bad source', () => {
    expect(() => parse({ source: 'cuda' })).to.throw(
      ConfigError,
      'agent.yaml: sampling.source must be one of auto, nvml, nvidia-smi, got "cuda"',
    );
  });

  it('rejects an interval under 100 ms and unknown keys', () => {
    expect(() => parse({ interval: '10ms' })).to.throw(
      ConfigError,
      'sampling.interval must be at least 100ms',
    );
    expect(() => parse({ intervall: '1s' })).to.throw(
      ConfigError,
      'sampling.intervall is not a known setting',
    );
  });
});

describe('effectiveIntervalMs()', () => {
  it('defaults to 1 s for NVML and 2 s for nvidia-smi', () => {
    expect(effectiveIntervalMs(null, 'nvml')).to.equal(1000);
    expect(effectiveIntervalMs(null, 'nvidia-smi')).to.equal(2000);
    expect(effectiveIntervalMs(750, 'nvidia-smi')).to.equal(750);
  });
});
