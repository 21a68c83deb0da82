import { expect } from 'chai';
import { parseFlags, runCli } from '../../shared/src/cli.ts';
import { UsageError } from '../../shared/src/errors.ts';

const FLAGS = {
  json: { type: 'boolean' },
  from: { type: 'string' },
  tag: { type: 'string', multiple: true },
  out: { type: 'string', short: 'o' },
} as const;

describe('parseFlags()', () => {
  it('parses flags given once', () => {
    const { values } = parseFlags(['--json', '--from', 'a.csv'], FLAGS);

    expect(values).to.deep.equal({ json: true, from: 'a.csv' });
  });

  it('refuses a string flag given twice, naming it', () => {
    expect(() =>
      parseFlags(['--from', 'a.csv', '--from', 'b.csv'], FLAGS),
    ).to.throw(UsageError, /^--from given twice; give it once$/);
  });

  it('refuses a boolean flag given twice', () => {
    expect(() => parseFlags(['--json', '--json'], FLAGS)).to.throw(
      UsageError,
      '--json given twice',
    );
  });

  it('counts a short alias and its long name as the same flag', () => {
    expect(() => parseFlags(['-o', 'a', '--out=b'], FLAGS)).to.throw(
      UsageError,
      '--out given twice',
    );
  });

  it('adds the hint given for the repeated flag', () => {
    expect(() =>
      parseFlags(['--from', 'a', '--from', 'b'], FLAGS, false, {
        from: 'put both CSVs in one file',
      }),
    ).to.throw(
      UsageError,
      '--from given twice; give it once (put both CSVs in one file)',
    );
  });

  it('keeps every value of a flag declared multiple', () => {
    const { values } = parseFlags(['--tag', 'a', '--tag', 'b'], FLAGS);

    expect(values.tag).to.deep.equal(['a', 'b']);
  });

  it('still names an unknown flag', () => {
    expect(() => parseFlags(['--frobnicate'], FLAGS)).to.throw(
      UsageError,
      /--frobnicate.*; see --help$/,
    );
  });
});

describe('runCli()', () => {
  it('exits 2 with one line for a repeated flag', async () => {
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (t: string) => err.push(t) };
    const commands = {
      sample: {
        summary: 's',
        usage: 'x sample',
        run: async (args: string[]) => (parseFlags(args, FLAGS), 0),
      },
    };
    const options = { program: 'x', version: '1', description: 'd', commands };

    const code = await runCli(
      options,
      ['sample', '--from', 'a', '--from', 'b'],
      io,
    );

    expect(code).to.equal(2);
    expect(err).to.deep.equal(['x sample: --from given twice; give it once\n']);
  });
});
