import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { createIdentityReader } from '../../../agent/src/guard/identity-reader.ts';
import { MemoryFs } from './memory-fs.ts';

const STAT =
  '77310 (python3 (my) app) S 77001 77310 77001 0 -1 4194560 5000 0 0 0 120 30 0 0 20 0 4 0 991204 1000000 2000 18446744073709551615';
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

function hostWith(stat: string, bootId: string | null = 'b1\n') {
  const fs = new MemoryFs();
  fs.files.set('/proc/77310/stat', stat);
  if (bootId !== null) fs.files.set(BOOT_ID_FILE, bootId);
  return fs;
}

describe('createIdentityReader()', () => {
  it('reads pid, start ticks and the boot id with the sampler’s parser', async () => {
    const read = createIdentityReader({ fs: hostWith(STAT) });

    expect(await read(77310)).to.deep.equal({
      pid: 77310,
      startTimeTicks: 991204,
      bootId: 'b1',
    });
  });

  it('keeps the boot id null when it cannot be read', async () => {
    const read = createIdentityReader({ fs: hostWith(STAT, null) });

    expect((await read(77310))?.bootId).to.equal(null);
  });

  it('gives null for a zombie, a dead process or a missing pid', async () => {
    const zombie = createIdentityReader({
      fs: hostWith(STAT.replace(') S ', ') Z ')),
    });
    const dead = createIdentityReader({
      fs: hostWith(STAT.replace(') S ', ') X ')),
    });

    expect(await zombie(77310)).to.equal(null);
    expect(await dead(77310)).to.equal(null);
    expect(await zombie(4242)).to.equal(null);
  });

  it('gives null for text that is not a stat line and for pids ≤ 0', async () => {
    const read = createIdentityReader({ fs: hostWith('garbage') });

    expect(await read(77310)).to.equal(null);
    expect(await read(0)).to.equal(null);
    expect(await read(-1)).to.equal(null);
  });

  it('reads a real child until it exits, then gives null', async () => {
    const read = createIdentityReader({ fs: createNodeFs() });
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid ?? -1;

    const alive = await read(pid);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    expect(alive?.pid).to.equal(pid);
    expect(alive?.startTimeTicks).to.be.a('number');
    expect(await read(pid)).to.equal(null);
  });
});
