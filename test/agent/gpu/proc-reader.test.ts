import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createProcReader } from '../../../agent/src/gpu/proc-reader.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const fixtures = fileURLToPath(
  new URL('../../fixtures/proc/', import.meta.url),
);
const procRoot = path.join(fixtures, 'root');
const passwdPath = path.join(fixtures, 'passwd');

/** The real fs with some files replaced (text) or removed (null). */
function overlayFs(overrides: Map<string, string | null>): Fs {
  const base = createNodeFs();
  const lookup = (file: string) => {
    const key = path.relative(procRoot, file);
    if (!overrides.has(key)) return undefined;
    const text = overrides.get(key);
    if (text === null)
      throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    return text;
  };
  return {
    ...base,
    readTextSync: (file) => lookup(file) ?? base.readTextSync(file),
  };
}

describe('createProcReader()', () => {
  describe('with the fixture tree', () => {
    const reader = () =>
      createProcReader(
        { passwdPath },
        { fs: createNodeFs(), clock: new FakeClock(), procRoot },
      );

    it('reads user, command, unit, start time and exe of a process', async () => {
      const infos = await reader().read([41872]);

      expect(infos.get(41872)).to.deep.equal({
        pid: 41872,
        comm: 'code-tunnel',
        state: 'S',
        ppid: 4100,
        startTimeTicks: 2802000,
        startedAtMs: Date.parse('2026-02-28T13:47:00Z'),
        uid: 1000,
        user: 'dev',
        command:
          '/home/dev/.vscode/cli/code-tunnel tunnel --accept-server-license-terms',
        exe: '/home/dev/.vscode/cli/code-tunnel',
        cgroup:
          '/user.slice/user-1000.slice/user@1000.service/app.slice/code-tunnel.service',
        unit: 'code-tunnel.service',
        container: null,
        oomScoreAdj: 200,
      });
    });

    it('reads a docker container on cgroup v1 and a name with ") ("', async () => {
      const info = (await reader().read([7777])).get(7777);

      expect(info?.comm).to.equal('py ) (x');
      expect(info?.container).to.equal(`3f${'a1'.repeat(31)}`);
      expect(info?.user).to.equal('root');
    });

    it('marks a zombie and keeps its unknown command as null', async () => {
      const info = (await reader().read([31794])).get(31794);

      expect(info?.state).to.equal('Z');
      expect(info?.command).to.equal(null);
      expect(info?.exe).to.equal(null);
      expect(info?.unit).to.equal('session-4.scope');
    });

    it('gives the uid as the user when passwd does not know it', async () => {
      const info = (await reader().read([6000])).get(6000);

      expect(info?.uid).to.equal(4321);
      expect(info?.user).to.equal('4321');
    });

    it('maps a pid that is not in /proc to null and reads the others', async () => {
      const infos = await reader().read([99999, 5120]);

      expect(infos.get(99999)).to.equal(null);
      expect(infos.get(5120)?.unit).to.equal('ollama.service');
    });

    it('reads each pid once when it is listed on several GPUs', async () => {
      const infos = await reader().read([5120, 5120, 41872]);

      expect([...infos.keys()]).to.deep.equal([5120, 41872]);
    });

    it('says the agent is not in a nested PID namespace', () => {
      expect(reader().inNestedPidNamespace()).to.equal(false);
    });
  });

  describe('caching', () => {
    it('drops cached metadata when a pid is reused by a new process', async () => {
      const overrides = new Map<string, string | null>();
      const fs = overlayFs(overrides);
      const reader = createProcReader(
        { passwdPath },
        { fs, clock: new FakeClock(), procRoot },
      );
      await reader.read([5120]);

      overrides.set(
        '5120/stat',
        `5120 (bash) S 1 5120 5120 0 -1 ${'0 '.repeat(13)}9999999 1 1 0\n`,
      );
      overrides.set('5120/cmdline', 'bash\0');
      const info = (await reader.read([5120])).get(5120);

      expect(info?.comm).to.equal('bash');
      expect(info?.startTimeTicks).to.equal(9999999);
      expect(info?.command).to.equal('bash');
    });

    it('reuses metadata of a live process until the TTL passes', async () => {
      const overrides = new Map<string, string | null>();
      const clock = new FakeClock();
      const reader = createProcReader(
        { passwdPath, metadataTtlMs: 60_000 },
        { fs: overlayFs(overrides), clock, procRoot },
      );
      await reader.read([5120]);
      overrides.set('5120/cmdline', '/usr/local/bin/ollama\0runner\0');

      const cached = (await reader.read([5120])).get(5120);
      await clock.advance(60_000);
      const reread = (await reader.read([5120])).get(5120);

      expect(cached?.command).to.equal('/usr/local/bin/ollama serve');
      expect(reread?.command).to.equal('/usr/local/bin/ollama runner');
    });

    it('tolerates a process vanishing between its stat and its other files', async () => {
      const overrides = new Map<string, string | null>([
        ['5120/status', null],
        ['5120/cmdline', null],
        ['5120/cgroup', null],
      ]);
      const reader = createProcReader(
        { passwdPath },
        { fs: overlayFs(overrides), clock: new FakeClock(), procRoot },
      );

      const info = (await reader.read([5120])).get(5120);

      expect(info?.uid).to.equal(null);
      expect(info?.user).to.equal(null);
      expect(info?.command).to.equal(null);
      expect(info?.unit).to.equal(null);
    });

    it('detects a nested PID namespace from its own NSpid line', () => {
      const overrides = new Map<string, string | null>([
        ['self/status', 'Name:\tnode\nNSpid:\t48213\t1\n'],
      ]);
      const reader = createProcReader(
        { passwdPath },
        { fs: overlayFs(overrides), clock: new FakeClock(), procRoot },
      );

      expect(reader.inNestedPidNamespace()).to.equal(true);
    });
  });

  describe('with the real /proc', () => {
    let child: ChildProcess;

    before(() => {
      child = spawn('sleep', ['30'], { stdio: 'ignore' });
    });

    after(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    });

    it('reads a spawned child: parent, user, command and a recent start', async () => {
      const pid = child.pid ?? -1;
      const reader = createProcReader(
        {},
        { fs: createNodeFs(), clock: new FakeClock() },
      );

      const info = (await reader.read([pid])).get(pid);

      expect(info?.comm).to.equal('sleep');
      expect(info?.ppid).to.equal(process.pid);
      expect(info?.command).to.equal('sleep 30');
      expect(info?.uid).to.equal(os.userInfo().uid);
      expect(info?.user).to.equal(os.userInfo().username);
      expect(info?.exe).to.match(/sleep$/);
      const ageMs = Date.now() - (info?.startedAtMs ?? 0);
      expect(ageMs).to.be.within(-2000, 60_000);
    });
  });
});
