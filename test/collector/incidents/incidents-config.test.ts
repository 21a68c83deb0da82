import { expect } from 'chai';
import { parseIncidentsConfig } from '../../../collector/src/incidents/incidents-config.ts';
import { ConfigNode, parseConfigText } from '../../../shared/src/config.ts';
import { ConfigError } from '../../../shared/src/errors.ts';

function parse(yaml: string) {
  return parseIncidentsConfig(
    new ConfigNode(parseConfigText(yaml, 'c.yaml'), 'incidents', 'c.yaml'),
  );
}

describe('parseIncidentsConfig()', () => {
  it('fills the defaults: 15 minute hold, 1 hour reopen window, 5 attempts', () => {
    const config = parse('{}');

    expect(config).to.deep.include({
      holdMs: 900_000,
      reopenWindowMs: 3_600_000,
      evidenceLookbackMs: 3_600_000,
      notifications: [],
    });
    expect(config.retry).to.deep.equal({
      attempts: 5,
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
      timeoutMs: 10_000,
    });
  });

  it('reads channels with their events, headers and token file', () => {
    const config = parse(`
holdPeriod: 5m
notifications:
  - type: ntfy
    url: https://ntfy.example/gpu
    events: [opened, resolved]
    headers: { X-Team: ml }
    tokenFile: /etc/gpuwarden/ntfy.token
`);

    expect(config.holdMs).to.equal(300_000);
    expect(config.notifications).to.deep.equal([
      {
        type: 'ntfy',
        url: 'https://ntfy.example/gpu',
        events: ['opened', 'resolved'],
        headers: { 'X-Team': 'ml' },
        tokenFile: '/etc/gpuwarden/ntfy.token',
      },
    ]);
  });

  it('names the field and what must hold for a bad channel', () => {
    expect(() =>
      parse('notifications: [{ type: pager, url: "http://x" }]'),
    ).to.throw(
      ConfigError,
      'c.yaml: incidents.notifications[0].type must be one of webhook, slack, ntfy, got "pager"',
    );
    expect(() =>
      parse('notifications: [{ type: webhook, url: "ftp://x" }]'),
    ).to.throw(
      'incidents.notifications[0].url must be an http:// or https:// URL',
    );
    expect(() =>
      parse(
        'notifications: [{ type: slack, url: "http://x", events: [paged] }]',
      ),
    ).to.throw(
      'incidents.notifications[0].events must list only opened, escalated, reopened, resolved',
    );
  });

  it('rejects unknown keys', () => {
    expect(() => parse('holdPeriods: 5m')).to.throw(
      ConfigError,
      'incidents.holdPeriods is not a known setting',
    );
  });
});
