import { expect } from 'chai';
import {
  createSignaller,
  parseProcStat,
  readProcessIdentity,
} from '../../../agent/src/guard/proc-identity.ts';
import { MemoryFs } from './memory-fs.ts';

const STAT =
  '77310 (python3 (my) app) S 77001 77310 77001 0 -1 4194560 5000 0 0 0 120 30 0 0 20 0 4 0 991204 1000000 2000 18446744073709551615';

describe('parseProcStat()', () => {
  it('counts fields after the last parenthesis so names with spaces and parentheses parse', () => {
    expect(parseProcStat(STAT)).to.deep.equal({
      state: 'S',
      ppid: 77001,
      startTimeTicks: 991204,
    });
  });

  it('gives null for text that is not a stat line', () => {
    expect(parseProcStat('garbage')).to.equal(null);
  });
});

describe('readProcessIdentity()', () => {
  it('reads pid, start ticks and the boot id', async () => {
    const fs = new MemoryFs();
    fs.files.set('/proc/77310/stat', STAT);

    const identity = await readProcessIdentity(77310, { fs, bootId: 'b1' });

    expect(identity).to.deep.equal({
      pid: 77310,
      startTimeTicks: 991204,
      bootId: 'b1',
    });
  });

  it('gives null for a zombie or a missing pid', async () => {
    const fs = new MemoryFs();
    fs.files.set('/proc/77310/stat', STAT.replace(') S ', ') Z '));

    expect(await readProcessIdentity(77310, { fs, bootId: null })).to.equal(
      null,
    );
    expect(await readProcessIdentity(4242, { fs, bootId: null })).to.equal(
      null,
    );
  });
});

describe('createSignaller()', () => {
  it('refuses pids that would hit a group, everyone, init, itself or its parent', () => {
    const sent: number[] = [];
    const signal = createSignaller(
      { selfPid: 500, parentPid: 499 },
      (pid) => void sent.push(pid),
    );

    for (const pid of [-1, 0, 1, 1.5, 500, 499]) {
      expect(signal(pid, 'SIGTERM').ok, `pid ${pid}`).to.equal(false);
    }
    expect(signal(77310, 'SIGTERM').ok).to.equal(true);
    expect(sent).to.deep.equal([77310]);
  });

  it('turns a kernel refusal into a value', () => {
    const signal = createSignaller({ selfPid: 500, parentPid: 499 }, () => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    });

    expect(signal(77310, 'SIGKILL')).to.deep.equal({
      ok: false,
      error: 'SIGKILL to pid 77310 failed: EPERM',
    });
  });
});
