import { expect } from 'chai';
import { createExec } from '../../shared/src/exec.ts';
import { isProcessAlive } from '../fakes/gpu-state.ts';

describe('createExec()', () => {
  const exec = createExec();

  it('runs a program without a shell and returns its output', async () => {
    const result = await exec('/bin/echo', ['a;b', '$HOME'], {
      timeoutMs: 5000,
    });

    expect(result.exitCode).to.equal(0);
    expect(result.stdout.toString()).to.equal('a;b $HOME\n');
    expect(result.timedOut).to.equal(false);
  });

  it('kills the whole process group on timeout, children included', async () => {
    const result = await exec('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], {
      timeoutMs: 300,
    });
    const grandchild = Number(result.stdout.toString().trim());

    expect(result.timedOut).to.equal(true);
    expect(result.exitCode).to.equal(null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(isProcessAlive(grandchild)).to.equal(false);
  });

  it('reports a program that cannot be started', async () => {
    const result = await exec('/nonexistent/nvidia-smi', [], {
      timeoutMs: 1000,
    });

    expect(result.spawnError).to.be.a('string');
    expect(result.exitCode).to.equal(null);
  });

  it('passes extra environment variables', async () => {
    const result = await exec('/usr/bin/env', [], {
      timeoutMs: 1000,
      env: { LC_ALL: 'C' },
    });

    expect(result.stdout.toString()).to.contain('LC_ALL=C');
  });
});
