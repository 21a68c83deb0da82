import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConfigNode,
  parseConfigText,
  readConfigFile,
} from '../../shared/src/config.ts';
import { createNodeFs } from '../../shared/src/fs.ts';
import {
  ConfigError,
  GpuwardenError,
  exitCodeFor,
} from '../../shared/src/errors.ts';

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

  it("reports bad YAML with its line and the parser's words", () => {
    const thrown = catchError(() =>
      parseConfigText('a: 1\nb: 2\n  c: 3\n', 'x.yaml'),
    );

    expect(thrown).to.be.instanceOf(GpuwardenError);
    expect((thrown as GpuwardenError).code).to.equal('CONFIG_INVALID');
    expect((thrown as Error).message).to.equal(
      'config file x.yaml is not valid YAML at line 2, column 4: Nested mappings are not allowed in compact mappings; fix the syntax',
    );
    expect(exitCodeFor(thrown)).to.equal(2);
  });
});

describe('readConfigFile()', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gw-config-'));
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('reads a file and resolves its folder', async () => {
    const file = path.join(dir, 'ok.yaml');
    await writeFile(file, 'a: 1\n');

    const read = await readConfigFile(file, createNodeFs());

    expect(read).to.deep.equal({ data: { a: 1 }, source: file, baseDir: dir });
  });

  it('says a missing file is missing and where to look', async () => {
    const file = path.join(dir, 'nope.yaml');

    const thrown = await readConfigFile(file, createNodeFs()).catch(
      (e: unknown) => e,
    );

    expect((thrown as Error).message).to.equal(
      `cannot read config file ${file}: no such file; check the --config path`,
    );
    expect(exitCodeFor(thrown)).to.equal(2);
  });

  it('says a directory is a directory', async () => {
    const thrown = await readConfigFile(dir, createNodeFs()).catch(
      (e: unknown) => e,
    );

    expect((thrown as Error).message).to.equal(
      `cannot read config file ${dir}: it is a directory; check the --config path`,
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
