import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  acquireStateLock,
  parseStatStartTicks,
  readProcStartTicks,
} from '../../shared/src/state-lock.ts';
import type { LockRecord } from '../../shared/src/state-lock.ts';
import { createNodeFs } from '../../shared/src/fs.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { createMemoryLogger } from '../support/memory-logger.ts';

const STAT =
  '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 2 0 0 20 0 11 0 987654 1000 200';

describe('acquireStateLock()', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gw-lock-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  const lockFile = () => path.join(dir, '.lock');
  const readRecord = async () =>
    JSON.parse(await readFile(lockFile(), 'utf8')) as LockRecord;
  const writeRecord = (record: Partial<LockRecord>) =>
    writeFile(lockFile(), JSON.stringify(record));
  const deps = () => ({ clock: new FakeClock() });

  it('takes a fresh directory and writes its pid and start time', async () => {
    const lock = await acquireStateLock(dir, { name: 'collector' }, deps());

    expect(lock.ok).to.equal(true);
    const record = await readRecord();
    expect(record).to.include({
      pid: process.pid,
      name: 'collector',
      startedAt: '2026-02-28T14:00:00.000Z',
    });
    expect(record.procStartTicks).to.equal(
      await readProcStartTicks('/proc', process.pid, createNodeFs()),
    );
  });

  it('creates the directory when it does not exist yet', async () => {
    const nested = path.join(dir, 'data', 'collector');

    const lock = await acquireStateLock(nested, { name: 'collector' });

    expect(lock.ok).to.equal(true);
    expect(await readFile(path.join(nested, '.lock'), 'utf8')).to.contain(
      `"pid":${process.pid}`,
    );
  });

  it('refuses a directory held by a live process with one line', async () => {
    const child = spawn(process.execPath, [
      '-e',
      'setTimeout(() => {}, 30000)',
    ]);
    try {
      const pid = child.pid!;
      const ticks = await readProcStartTicks('/proc', pid, createNodeFs());
      await writeRecord({ pid, procStartTicks: ticks, name: 'collector' });

      const lock = await acquireStateLock(dir, { name: 'collector' });

      expect(lock.ok).to.equal(false);
      expect(!lock.ok && lock.error).to.equal(
        `another gpuwarden collector (pid ${pid}) is using ${dir}; stop it, or give this one another dataDir`,
      );
      expect((await readRecord()).pid).to.equal(pid);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('names stateDir when an agent is refused', async () => {
    await acquireStateLock(dir, { name: 'agent' });

    const second = await acquireStateLock(dir, { name: 'agent' });

    expect(!second.ok && second.error).to.equal(
      `another gpuwarden agent (pid ${process.pid}) is using ${dir}; stop it, or give this one another stateDir`,
    );
  });

  it('takes over the lock of a process that is gone, and logs it', async () => {
    const { logger, lines } = createMemoryLogger();
    await writeRecord({ pid: 999_999_999, procStartTicks: '1', name: 'agent' });

    const lock = await acquireStateLock(
      dir,
      { name: 'agent' },
      { logger, isAlive: () => false },
    );

    expect(lock.ok).to.equal(true);
    expect((await readRecord()).pid).to.equal(process.pid);
    expect(lines.find((l) => l.msg === 'taking over a stale state lock'))
      .to.include({ stalePid: 999_999_999, file: lockFile() })
      .and.have.property('level', 40);
  });

  it('takes over a lock whose pid now belongs to another process', async () => {
    // Our own pid, alive, but with another start time: a reused pid.
    await writeRecord({ pid: process.pid, procStartTicks: '1', name: 'agent' });

    const lock = await acquireStateLock(dir, { name: 'agent' });

    expect(lock.ok).to.equal(true);
    expect((await readRecord()).procStartTicks).to.not.equal('1');
  });

  it('takes over an empty or garbled lock file', async () => {
    await writeFile(lockFile(), '{"pid":');

    const lock = await acquireStateLock(dir, { name: 'collector' });

    expect(lock.ok).to.equal(true);
    expect((await readRecord()).pid).to.equal(process.pid);
  });

  it('without /proc, trusts a live pid other than its own', async () => {
    await writeRecord({ pid: 4242, procStartTicks: null, name: 'collector' });
    const noProc = path.join(dir, 'no-proc');

    const held = await acquireStateLock(
      dir,
      { name: 'collector' },
      { procRoot: noProc, isAlive: () => true },
    );
    await writeRecord({ pid: 77, procStartTicks: null, name: 'collector' });
    const own = await acquireStateLock(
      dir,
      { name: 'collector' },
      { procRoot: noProc, isAlive: () => true, pid: 77 },
    );

    expect(held.ok).to.equal(false);
    expect(own.ok).to.equal(true);
  });

  it('removes its lock on release, so the next start takes it', async () => {
    const first = await acquireStateLock(dir, { name: 'collector' });
    if (!first.ok) throw new Error(first.error);

    await first.value.release();
    await first.value.release();
    const second = await acquireStateLock(dir, { name: 'collector' });

    expect(second.ok).to.equal(true);
  });

  it('leaves a lock alone on release once another process took it', async () => {
    const first = await acquireStateLock(dir, { name: 'collector' });
    if (!first.ok) throw new Error(first.error);
    await writeRecord({ pid: 4242, procStartTicks: '5', name: 'collector' });

    await first.value.release();

    expect((await readRecord()).pid).to.equal(4242);
  });

  it('says what to do when the directory cannot be written', async () => {
    const file = path.join(dir, 'plain-file');
    await writeFile(file, 'x');

    const lock = await acquireStateLock(path.join(file, 'sub'), {
      name: 'collector',
    });

    expect(!lock.ok && lock.error).to.match(
      /^cannot lock .*plain-file\/sub \(E[A-Z]+\); make it writable for this user or set dataDir to another directory$/,
    );
  });
});

describe('parseStatStartTicks()', () => {
  it('counts fields from the last parenthesis of the command name', () => {
    expect(parseStatStartTicks(STAT)).to.equal('987654');
  });

  it('is null for a line without a command name', () => {
    expect(parseStatStartTicks('garbage')).to.equal(null);
  });
});
