import { expect } from 'chai';
import {
  parseBootTimeSeconds,
  parseCmdline,
  parseOomScoreAdj,
  parsePasswd,
  parseProcCgroup,
  parseProcStat,
  parseProcStatus,
  startedAtMs,
} from '../../../agent/src/gpu/proc-parse.ts';

const tail = (start: number) =>
  `4194560 1000 0 0 0 120 45 0 0 20 0 12 0 ${start} 123456789 2048 0`;

describe('proc-parse', () => {
  describe('parseProcStat()', () => {
    it('reads state, parent and start time after the name', () => {
      const text = `41872 (code-tunnel) S 4100 41872 41872 0 -1 ${tail(2802000)}\n`;

      const stat = parseProcStat(text);

      expect(stat).to.deep.equal({
        pid: 41872,
        comm: 'code-tunnel',
        state: 'S',
        ppid: 4100,
        startTimeTicks: 2802000,
      });
    });

    it('splits fields after the last parenthesis when the name holds ") ("', () => {
      const text = `7777 (py ) (x) R 1 7777 7777 0 -1 ${tail(2900000)}`;

      const stat = parseProcStat(text);

      expect(stat?.comm).to.equal('py ) (x');
      expect(stat?.state).to.equal('R');
      expect(stat?.ppid).to.equal(1);
      expect(stat?.startTimeTicks).to.equal(2900000);
    });

    it('keeps the zombie state letter', () => {
      const text = `31794 (python) Z 4100 1 1 0 -1 ${tail(5)}`;

      expect(parseProcStat(text)?.state).to.equal('Z');
    });

    it('returns null for text that is cut short or not a stat line', () => {
      expect(parseProcStat('')).to.equal(null);
      expect(parseProcStat('12 (bash) S 1 2 3')).to.equal(null);
      expect(parseProcStat('garbage')).to.equal(null);
      expect(parseProcStat(`x (bash) S 1 1 1 0 -1 ${tail(9)}`)).to.equal(null);
    });
  });

  describe('parseProcStatus()', () => {
    it('reads the real uid and the namespace pids', () => {
      const text =
        'Name:\tpython\nUid:\t1000\t1001\t1002\t1003\nNSpid:\t5120\t7\n';

      expect(parseProcStatus(text)).to.deep.equal({
        uid: 1000,
        nsPids: [5120, 7],
      });
    });

    it('gives null fields when the lines are missing', () => {
      expect(parseProcStatus('Name:\tx\n')).to.deep.equal({
        uid: null,
        nsPids: null,
      });
    });
  });

  describe('parseProcCgroup()', () => {
    it('finds the innermost systemd unit on cgroup v2', () => {
      const text =
        '0::/user.slice/user-1000.slice/user@1000.service/app.slice/code-tunnel.service\n';

      expect(parseProcCgroup(text)).to.deep.equal({
        path: '/user.slice/user-1000.slice/user@1000.service/app.slice/code-tunnel.service',
        unit: 'code-tunnel.service',
        container: null,
      });
    });

    it('names a login session scope', () => {
      const cgroup = parseProcCgroup(
        '0::/user.slice/user-1000.slice/session-4.scope\n',
      );

      expect(cgroup?.unit).to.equal('session-4.scope');
    });

    it('reads the name=systemd hierarchy and a docker id on cgroup v1', () => {
      const id = 'f'.repeat(64);
      const text = `12:memory:/docker/${id}\n1:name=systemd:/docker/${id}\n`;

      expect(parseProcCgroup(text)).to.deep.equal({
        path: `/docker/${id}`,
        unit: null,
        container: id,
      });
    });

    it('reads the container id of a containerd scope in a pod', () => {
      const id = 'ab'.repeat(32);
      const text = `0::/kubepods.slice/kubepods-pod1b2c.slice/cri-containerd-${id}.scope\n`;

      const cgroup = parseProcCgroup(text);

      expect(cgroup?.container).to.equal(id);
      expect(cgroup?.unit).to.equal(`cri-containerd-${id}.scope`);
    });

    it('prefers the unified line in hybrid mode', () => {
      const text =
        '1:name=systemd:/system.slice/other.service\n0::/system.slice/ollama.service\n';

      expect(parseProcCgroup(text)?.unit).to.equal('ollama.service');
    });

    it('returns null when no line has a path', () => {
      expect(parseProcCgroup('')).to.equal(null);
      expect(parseProcCgroup('4:memory:/\n')).to.equal(null);
    });
  });

  describe('parseCmdline()', () => {
    it('joins NUL-separated arguments with spaces', () => {
      expect(parseCmdline('/usr/bin/ollama\0serve\0')).to.equal(
        '/usr/bin/ollama serve',
      );
    });

    it('returns null for the empty command line of a zombie', () => {
      expect(parseCmdline('')).to.equal(null);
    });
  });

  describe('parseBootTimeSeconds()', () => {
    it('reads the btime line of /proc/stat', () => {
      const text = 'cpu 1 2 3\nctxt 9\nbtime 1772258400\nprocesses 3\n';

      expect(parseBootTimeSeconds(text)).to.equal(1772258400);
    });

    it('returns null without a btime line', () => {
      expect(parseBootTimeSeconds('cpu 1 2 3\n')).to.equal(null);
    });
  });

  describe('parsePasswd()', () => {
    it('maps uids to names, skipping comments and broken lines', () => {
      const text =
        '# users\nroot:x:0:0::/root:/bin/sh\nbroken\ndev:x:1000:1000::/home/dev:/bin/sh\ndup:x:1000:1000::/:/bin/sh\n';

      const users = parsePasswd(text);

      expect([...users.entries()]).to.deep.equal([
        [0, 'root'],
        [1000, 'dev'],
      ]);
    });
  });

  describe('startedAtMs()', () => {
    it('adds start ticks at 100 Hz to the boot time', () => {
      const ms = startedAtMs(1772258400, 2802000);

      expect(new Date(ms).toISOString()).to.equal('2026-02-28T13:47:00.000Z');
    });
  });

  describe('parseOomScoreAdj()', () => {
    it('reads a negative adjustment and rejects text', () => {
      expect(parseOomScoreAdj('-500\n')).to.equal(-500);
      expect(parseOomScoreAdj('n/a')).to.equal(null);
    });
  });
});
