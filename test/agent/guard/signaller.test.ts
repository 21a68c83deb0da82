import { expect } from 'chai';
import { createSignaller } from '../../../agent/src/guard/signaller.ts';

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
