import { expect } from 'chai';
import { ConfigNode, parseConfigText } from '../../shared/src/config.ts';
import { ConfigError } from '../../shared/src/errors.ts';

describe('ConfigNode', () => {
  it('names the field, the rule and the value in errors', () => {
    const root = new ConfigNode(
      parseConfigText('guard: {mode: kill}', 'a.yaml'),
      '',
      'a.yaml',
    );

    const read = () => root.child('guard').oneOf('mode', ['observe', 'warn']);

    expect(read).to.throw(
      ConfigError,
      'a.yaml: guard.mode must be one of observe, warn, got "kill"',
    );
  });

  it('rejects unknown keys so typos in safety settings never pass', () => {
    const root = new ConfigNode({ gaurd: {} }, '');

    expect(() => root.done()).to.throw(
      ConfigError,
      'gaurd is not a known setting',
    );
  });

  it('reads durations and sizes with their units', () => {
    const root = new ConfigNode({ grace: '30s', reserve: '20GiB' }, 'guard');

    expect(root.durationMs('grace')).to.equal(30_000);
    expect(root.bytes('reserve')).to.equal(20 * 2 ** 30);
    expect(() => root.durationMs('missing')).to.throw(
      'guard.missing must be a duration',
    );
  });

  it('reports bad YAML with its line', () => {
    expect(() => parseConfigText('a: [1, 2', 'x.yaml')).to.throw(
      ConfigError,
      /x\.yaml: \(file\) must be valid YAML/,
    );
  });
});
