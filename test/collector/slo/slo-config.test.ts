import { expect } from 'chai';
import { ConfigNode, parseConfigText } from '../../../shared/src/config.ts';
import { ConfigError } from '../../../shared/src/errors.ts';
import { parseSloConfig } from '../../../collector/src/slo/slo-config.ts';

function parse(yaml: string) {
  return parseSloConfig(
    new ConfigNode(parseConfigText(yaml, 'c.yaml'), '', 'c.yaml'),
  );
}

const base = 'slos:\n  - name: ollama_availability\n';

describe('parseSloConfig()', () => {
  it('defaults to ollama_availability at 99.5 % within 2 s over 30 days', () => {
    const [slo] = parse('{}').slos;

    expect(slo).to.include({
      name: 'ollama_availability',
      workload: 'ollama',
      latencyThresholdMs: 2000,
      targetPercent: 99.5,
      targetPpm: 995_000,
      periodMs: 30 * 86_400_000,
      bucketWidthMs: 60_000,
    });
    expect(
      slo?.rules.map((r) => [r.name, r.severity, r.thresholdMicros]),
    ).to.deep.equal([
      ['slo_critical_burn', 'SEV1', 14_400_000],
      ['slo_high_burn', 'SEV2', 3_000_000],
      ['slo_slow_burn', 'SEV3', 1_000_000],
    ]);
    expect(slo?.rules[1]).to.include({
      longWindow: 'rolling_1h',
      shortWindow: 'rolling_5m',
    });
  });

  it('rejects a target written as a fraction, naming the field', () => {
    expect(() => parse(`${base}    targetPercent: 0.995\n`)).to.throw(
      ConfigError,
      'c.yaml: slos[0].targetPercent is a percent, not a fraction: write 99.5 for 99.5 %, got 0.995',
    );
  });

  it('rejects targets of 100 % and above, and of 0 % and below', () => {
    expect(() => parse(`${base}    targetPercent: 100\n`)).to.throw(
      'slos[0].targetPercent must be below 100',
    );
    expect(() => parse(`${base}    targetPercent: 0\n`)).to.throw(
      'slos[0].targetPercent must be above 0 %',
    );
    expect(() => parse(`${base}    targetPercent: -5\n`)).to.throw(
      'slos[0].targetPercent must be a percent',
    );
  });

  it('reads "99.9%" exactly', () => {
    const [slo] = parse(`${base}    targetPercent: "99.9%"\n`).slos;

    expect(slo?.targetPpm).to.equal(999_000);
  });

  it('requires the latency threshold to be an agent bucket bound', () => {
    expect(() => parse(`${base}    latencyThreshold: 1800ms\n`)).to.throw(
      /slos\[0\]\.latencyThreshold must be one of the agent's latency bucket bounds \(50ms, .*2s.*\)/,
    );
  });

  it('reads shortened rules and bucket width for a demo', () => {
    const yaml = `${base}    bucketWidth: 5s\n    period: 1h\n    rules:\n      - {name: slo_high_burn, severity: SEV2, burnRate: 3, longWindow: 2m, shortWindow: 10s}\n`;

    const [slo] = parse(yaml).slos;

    expect(slo?.bucketWidthMs).to.equal(5000);
    expect(slo?.rules).to.deep.equal([
      {
        name: 'slo_high_burn',
        severity: 'SEV2',
        thresholdMicros: 3_000_000,
        longWindowMs: 120_000,
        shortWindowMs: 10_000,
        longWindow: 'rolling_2m',
        shortWindow: 'rolling_10s',
      },
    ]);
  });

  it('rejects windows that are not whole buckets', () => {
    expect(() => parse(`${base}    bucketWidth: 7s\n`)).to.throw(
      'slos[0].bucketWidth must divide every rule window',
    );
  });

  it('rejects a short window not shorter than the long one', () => {
    const yaml = `${base}    rules:\n      - {name: r, severity: SEV2, burnRate: 3, longWindow: 5m, shortWindow: 5m}\n`;

    expect(() => parse(yaml)).to.throw(
      'slos[0].rules[0].shortWindow must be shorter than longWindow (5m)',
    );
  });

  it('rejects unknown keys and duplicate names', () => {
    expect(() => parse(`${base}    target: 99\n`)).to.throw(
      'slos[0].target is not a known setting',
    );
    expect(() => parse(`${base}${base.slice(6)}`)).to.throw(
      'slos[1].name must be unique',
    );
  });
});
