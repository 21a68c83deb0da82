import { expect } from 'chai';
import { ConfigNode } from '../../../shared/src/config.ts';
import { parseGuardConfig } from '../../../agent/src/guard/guard-config.ts';
import { summarizePolicy } from '../../../agent/src/guard/policy.ts';

const parse = (data: unknown) =>
  parseGuardConfig(new ConfigNode(data, 'guard'));

describe('parseGuardConfig()', () => {
  it('fills every default, with mode warn', () => {
    const config = parse({});

    expect(config.mode).to.equal('warn');
    expect(config.marginBytes).to.equal(512 * 2 ** 20);
    expect(config.minReclaimBytes).to.equal(512 * 2 ** 20);
    expect(config.softGraceMs).to.equal(60_000);
    expect(config.hardGraceMs).to.equal(10_000);
    expect(config.termGraceMs).to.equal(10_000);
    expect(config.killGraceMs).to.equal(5_000);
    expect(config.cooldownMs).to.equal(15_000);
    expect(config.killsPerGpuPerHour).to.equal(3);
    expect(config.respawnWindowMs).to.equal(30 * 60_000);
    expect(config.eligible).to.deep.equal({
      users: [],
      units: [],
      minVictimBytes: 256 * 2 ** 20,
      graphics: false,
      containers: 'warn',
    });
    expect(config.protect.units).to.deep.equal(['ollama.service']);
    expect(config.killSwitchFile).to.equal('/etc/gpuwarden/disable-enforce');
    expect(config.reloadAfterRestore).to.equal(false);
  });

  it('reads reservations by index or UUID, with a per-GPU mode', () => {
    const config = parse({
      mode: 'observe',
      reservations: [
        { gpu: 0, reserve: '20GiB', model: 'qwen2.5:32b' },
        { gpu: 'GPU-5f0c2b1e-9a7d', reserve: 8589934592, mode: 'enforce' },
      ],
    });

    expect(config.reservations).to.deep.equal([
      {
        gpuUuid: null,
        gpuIndex: 0,
        reservedBytes: 20 * 2 ** 30,
        workload: 'ollama',
        model: 'qwen2.5:32b',
        mode: 'observe',
      },
      {
        gpuUuid: 'GPU-5f0c2b1e-9a7d',
        gpuIndex: null,
        reservedBytes: 8 * 2 ** 30,
        workload: 'ollama',
        model: null,
        mode: 'enforce',
      },
    ]);
  });

  it('accepts numeric uids among eligible users', () => {
    expect(
      parse({ eligible: { users: ['dev', 1001] } }).eligible.users,
    ).to.deep.equal(['dev', '1001']);
  });

  const bad: [string, unknown, string][] = [
    [
      'a mode',
      { mode: 'kill' },
      'guard.mode must be one of observe, warn, enforce-term, enforce, got "kill"',
    ],
    [
      'a GPU',
      { reservations: [{ gpu: 'first', reserve: '1GiB' }] },
      'guard.reservations[0].gpu must be a GPU index (0) or UUID',
    ],
    [
      'a size',
      { reservations: [{ gpu: 0, reserve: 'lots' }] },
      'guard.reservations[0].reserve must be a size',
    ],
    [
      'a zero reservation',
      { reservations: [{ gpu: 0, reserve: 0 }] },
      'guard.reservations[0].reserve must be more than 0',
    ],
    [
      'a duplicate GPU',
      {
        reservations: [
          { gpu: 0, reserve: '1GiB' },
          { gpu: 0, reserve: '2GiB' },
        ],
      },
      'guard.reservations must name each GPU at most once',
    ],
    [
      'a duration',
      { grace: { hard: 'soon' } },
      'guard.grace.hard must be a duration',
    ],
    [
      'a ratio',
      { kill: { releaseRatio: 2 } },
      'guard.kill.releaseRatio must be at most 1',
    ],
    [
      'a webhook',
      { hook: { webhook: 'ftp://x' } },
      'guard.hook.webhook must be an http:// or https:// URL',
    ],
    [
      'an unknown key',
      { eligible: { user: ['dev'] } },
      'guard.eligible.user is not a known setting',
    ],
    [
      'users',
      { eligible: { users: 'dev' } },
      'guard.eligible.users must be a list of user names or uids',
    ],
  ];
  for (const [what, data, message] of bad) {
    it(`rejects ${what} naming the field`, () => {
      expect(() => parse(data)).to.throw(message);
    });
  }
});

describe('summarizePolicy()', () => {
  it('hashes equal policies equally and different ones differently', () => {
    const a = summarizePolicy(
      parse({ reservations: [{ gpu: 0, reserve: '20GiB' }] }),
    );
    const b = summarizePolicy(
      parse({ reservations: [{ gpu: 0, reserve: '20GiB' }] }),
    );
    const c = summarizePolicy(
      parse({ reservations: [{ gpu: 0, reserve: '21GiB' }] }),
    );

    expect(a.policyHash).to.match(/^[0-9a-f]{64}$/);
    expect(a.policyHash).to.equal(b.policyHash);
    expect(a.policyHash).to.not.equal(c.policyHash);
    expect(a.reservations).to.deep.equal([
      { gpu: 'index:0', reservedBytes: 20 * 2 ** 30, workload: 'ollama' },
    ]);
    expect(a.mode).to.equal('warn');
  });
});
