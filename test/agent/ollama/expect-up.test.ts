import { expect } from 'chai';
import type { Exec, ExecResult } from '../../../shared/src/exec.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import {
  isOllamaServeCommand,
  parseUnitState,
  shouldOllamaBeUp,
} from '../../../agent/src/ollama/expect-up.ts';

function execAnswering(stdout: string, exitCode = 0): Exec {
  return async (): Promise<ExecResult> => ({
    exitCode,
    signal: null,
    timedOut: false,
    stdout: Buffer.from(stdout),
    stderr: '',
    spawnError: null,
    durationMs: 1,
  });
}

function procFs(cmdlines: Record<string, string>): Fs {
  return {
    readdir: async () => ['self', ...Object.keys(cmdlines)],
    readText: async (file: string) => {
      const pid = file.split('/')[2] ?? '';
      if (!(pid in cmdlines)) throw new Error('ENOENT');
      return cmdlines[pid]!;
    },
  } as unknown as Fs;
}

describe('shouldOllamaBeUp()', () => {
  const cases: [string, boolean][] = [
    ['active', true],
    ['activating', true],
    ['failed', true],
    ['inactive', false],
    ['deactivating', false],
  ];
  for (const [activeState, expected] of cases) {
    it(`reads a unit that is ${activeState} as ${expected ? 'should be up' : 'stopped'}`, async () => {
      const exec = execAnswering(
        `LoadState=loaded\nActiveState=${activeState}\n`,
      );

      const up = await shouldOllamaBeUp({ unit: 'ollama' }, { exec });

      expect(up).to.deep.equal({
        expected,
        basis: 'unit',
        detail: activeState,
      });
    });
  }

  it('looks for an ollama serve process when the unit does not exist', async () => {
    const exec = execAnswering('LoadState=not-found\nActiveState=inactive\n');
    const fs = procFs({
      '12': 'bash\0',
      '1391': '/usr/local/bin/ollama\0serve\0',
    });

    const up = await shouldOllamaBeUp({ unit: 'ollama' }, { exec, fs });

    expect(up).to.deep.equal({
      expected: true,
      basis: 'process',
      detail: 'pid 1391',
    });
  });

  it('reads no unit and no server process as stopped', async () => {
    const up = await shouldOllamaBeUp(
      { unit: null },
      { fs: procFs({ '12': 'bash\0' }) },
    );

    expect(up.expected).to.equal(false);
  });

  it('assumes up when nothing can be read', async () => {
    const up = await shouldOllamaBeUp(
      { unit: 'ollama' },
      { exec: execAnswering('', 1) },
    );

    expect(up).to.deep.include({ expected: true, basis: 'default' });
  });

  it('reads systemctl output and command lines', () => {
    expect(parseUnitState('garbage')).to.equal(null);
    expect(isOllamaServeCommand('ollama\0serve\0')).to.equal(true);
    expect(
      isOllamaServeCommand('/usr/local/bin/ollama\0runner\0--model\0m\0'),
    ).to.equal(false);
    expect(isOllamaServeCommand('/usr/bin/python3\0ollama\0serve\0')).to.equal(
      false,
    );
  });
});
