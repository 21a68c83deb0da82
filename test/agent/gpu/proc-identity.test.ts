import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  isSameProcess,
  readAncestry,
  readBootId,
  readProcessIdentity,
} from '../../../agent/src/gpu/proc-identity.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';

const procRoot = fileURLToPath(
  new URL('../../fixtures/proc/root/', import.meta.url),
);
const deps = { fs: createNodeFs(), procRoot: path.resolve(procRoot) };
const BOOT_ID = '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b';

describe('proc-identity', () => {
  describe('readBootId()', () => {
    it('reads the boot id without its newline', async () => {
      expect(await readBootId(deps)).to.equal(BOOT_ID);
    });

    it('returns null when the file is missing', async () => {
      const missing = { ...deps, procRoot: path.join(procRoot, 'nowhere') };

      expect(await readBootId(missing)).to.equal(null);
    });
  });

  describe('readProcessIdentity()', () => {
    it('reads pid, start time and boot id', async () => {
      expect(await readProcessIdentity(41872, deps)).to.deep.equal({
        pid: 41872,
        startTimeTicks: 2802000,
        bootId: BOOT_ID,
      });
    });

    it('returns null for a pid that is gone, and for pids that are not pids', async () => {
      expect(await readProcessIdentity(99999, deps)).to.equal(null);
      expect(await readProcessIdentity(0, deps)).to.equal(null);
      expect(await readProcessIdentity(-1, deps)).to.equal(null);
      expect(await readProcessIdentity(1.5, deps)).to.equal(null);
    });
  });

  describe('isSameProcess()', () => {
    const a = { pid: 7, startTimeTicks: 100, bootId: 'b1' };

    it('tells a reused pid from the process a decision was made about', () => {
      expect(isSameProcess(a, { ...a })).to.equal(true);
      expect(isSameProcess(a, { ...a, startTimeTicks: 101 })).to.equal(false);
      expect(isSameProcess(a, { ...a, bootId: 'b2' })).to.equal(false);
    });
  });

  describe('readAncestry()', () => {
    it('lists the parents nearest first, up to pid 1', async () => {
      expect(await readAncestry(41872, deps)).to.deep.equal([
        { pid: 4100, name: 'systemd', exe: '/usr/lib/systemd/systemd' },
        { pid: 1, name: 'systemd', exe: '/usr/lib/systemd/systemd' },
      ]);
    });

    it('is empty for pid 1 and for a pid that is gone', async () => {
      expect(await readAncestry(1, deps)).to.deep.equal([]);
      expect(await readAncestry(99999, deps)).to.deep.equal([]);
    });

    describe('with the real /proc', () => {
      let child: ChildProcess;

      before(() => {
        child = spawn('sleep', ['30'], { stdio: 'ignore' });
      });

      after(() => {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      });

      it('finds this test process as the parent of a spawned child', async () => {
        const chain = await readAncestry(child.pid ?? -1, {
          fs: createNodeFs(),
        });

        expect(chain[0]?.pid).to.equal(process.pid);
        expect(chain[0]?.exe).to.equal(process.execPath);
        expect(chain.map((entry) => entry.pid)).to.include(1);
      });

      it('reads the same identity twice for a live child', async () => {
        const fs = createNodeFs();
        const first = await readProcessIdentity(child.pid ?? -1, { fs });
        const second = await readProcessIdentity(child.pid ?? -1, { fs });

        expect(first).to.not.equal(null);
        expect(first?.bootId).to.match(/^[0-9a-f-]{36}$/);
        expect(isSameProcess(first!, second!)).to.equal(true);
      });
    });
  });
});
