import { expect } from 'chai';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import {
  decodeAgentMessage,
  decodeGeneral,
  encodeAgentMessage,
} from '../../../shared/src/proto/message-codec.ts';
import { IdentityMemory } from '../../../shared/src/proto/identity-memory.ts';
import {
  IDENTITY_REFRESH_MS,
  IdentityElider,
} from '../../../shared/src/proto/process-identity.ts';
import { validateAgentMessage } from '../../../shared/src/proto/validate-message.ts';
import type { GpuProcess, Snapshot } from '../../../shared/src/snapshot.ts';
import { sampleSnapshot } from '../../support/link-fixtures.ts';

const proto = loadLinkProto();
const T0 = Date.parse('2026-02-28T14:00:00.000Z');

/** The fixture snapshot at `atMs`, with its first process changed by `edit`. */
function snapshotAt(
  atMs: number,
  edit: (first: GpuProcess) => void = () => {},
  gpus = 2,
  processes = 3,
): Snapshot {
  const snapshot = sampleSnapshot('jasper', gpus, processes);
  snapshot.takenAt = new Date(atMs).toISOString();
  edit(snapshot.gpus[0]!.processes[0]!);
  return snapshot;
}

function omittedPids(elider: IdentityElider, snapshot: Snapshot): number[] {
  return [...elider.elide(snapshot)].map((p) => p.pid);
}

function allPids(snapshot: Snapshot): number[] {
  return snapshot.gpus.flatMap((g) => g.processes.map((p) => p.pid));
}

describe('IdentityElider', () => {
  it('sends every identity in full first, then leaves them out', () => {
    const elider = new IdentityElider();
    expect(omittedPids(elider, snapshotAt(T0))).to.deep.equal([]);
    const second = snapshotAt(T0 + 1000);
    expect(omittedPids(elider, second)).to.deep.equal(allPids(second));
  });

  it('sends a changed identity in full', () => {
    const elider = new IdentityElider();
    elider.elide(snapshotAt(T0));
    const changed = snapshotAt(T0 + 1000, (p) => (p.command = 'python3 new'));
    const omitted = omittedPids(elider, changed);
    expect(omitted).to.not.include(changed.gpus[0]!.processes[0]!.pid);
    expect(omitted).to.have.length(allPids(changed).length - 1);
  });

  it('sends a reused pid (another start) in full', () => {
    const elider = new IdentityElider();
    elider.elide(snapshotAt(T0));
    const reused = snapshotAt(
      T0 + 1000,
      (p) => (p.startedAt = '2026-02-28T13:59:59.000Z'),
    );
    expect(omittedPids(elider, reused)).to.not.include(
      reused.gpus[0]!.processes[0]!.pid,
    );
    const ticks = new IdentityElider();
    ticks.elide(snapshotAt(T0, (p) => (p.startTimeTicks = 100)));
    const again = snapshotAt(T0 + 1000, (p) => (p.startTimeTicks = 101));
    expect(omittedPids(ticks, again)).to.not.include(
      again.gpus[0]!.processes[0]!.pid,
    );
  });

  it('never leaves out the identity of a process without a start', () => {
    const elider = new IdentityElider();
    const noStart = (p: GpuProcess) => {
      p.startedAt = null;
      p.startTimeTicks = null;
    };
    elider.elide(snapshotAt(T0, noStart));
    const next = snapshotAt(T0 + 1000, noStart);
    expect(omittedPids(elider, next)).to.not.include(
      next.gpus[0]!.processes[0]!.pid,
    );
  });

  it('refreshes each identity once a refresh period of snapshot time', () => {
    const elider = new IdentityElider();
    elider.elide(snapshotAt(T0));
    expect(
      omittedPids(elider, snapshotAt(T0 + IDENTITY_REFRESH_MS - 1)),
    ).to.have.length(6);
    expect(
      omittedPids(elider, snapshotAt(T0 + IDENTITY_REFRESH_MS)),
    ).to.deep.equal([]);
    // A clock stepped back is not trusted either.
    expect(omittedPids(elider, snapshotAt(T0))).to.deep.equal([]);
  });

  it('sends everything in full after reset, and after a pid was absent', () => {
    const elider = new IdentityElider();
    elider.elide(snapshotAt(T0));
    elider.reset();
    expect(omittedPids(elider, snapshotAt(T0 + 1000))).to.deep.equal([]);
    elider.elide(snapshotAt(T0 + 2000, () => {}, 1, 1));
    const back = snapshotAt(T0 + 3000);
    expect(omittedPids(elider, back)).to.deep.equal([
      back.gpus[0]!.processes[0]!.pid,
    ]);
  });
});

describe('snapshots with identities left out, on the wire', () => {
  function message(seq: number, snapshot: Snapshot) {
    return {
      node: 'jasper',
      seq,
      sentAtMs: T0,
      payload: { type: 'snapshot' as const, snapshot },
    };
  }

  /** Encodes a stream of snapshots, decodes them in order, as ingest does. */
  function roundTrip(snapshots: Snapshot[], memory: IdentityMemory | null) {
    const elider = new IdentityElider();
    return snapshots.map((snapshot, i) => {
      const bytes = encodeAgentMessage(proto, message(i + 1, snapshot), elider);
      const decoded = decodeAgentMessage(proto, bytes, memory);
      if (!decoded.ok) throw new Error(decoded.error.reason);
      memory?.commit(Date.parse(snapshot.takenAt));
      return { bytes, decoded: decoded.value };
    });
  }

  it('decodes to exactly what was sent, changes and reused pids included', () => {
    const snapshots = [
      snapshotAt(T0),
      snapshotAt(T0 + 1000),
      snapshotAt(T0 + 2000, (p) => {
        p.command = 'python3 serve.py --shard 99';
        p.cgroup = '/system.slice/infer.service';
      }),
      snapshotAt(T0 + 3000, (p) => {
        p.command = 'python3 serve.py --shard 99';
        p.cgroup = '/system.slice/infer.service';
      }),
      snapshotAt(T0 + 4000, (p) => (p.startedAt = '2026-02-28T13:59:00.000Z')),
      snapshotAt(T0 + 5000, (p) => (p.startedAt = '2026-02-28T13:59:00.000Z')),
      snapshotAt(T0 + 6000),
    ];
    // A GPU's unchanging fields change after all (another card in its place).
    const swapped = snapshots[6]!.gpus[1]!;
    swapped.name = 'NVIDIA H200';
    swapped.pciBusId = '00000000:99:00.0';
    swapped.memory.totalBytes = 150_000_000_000;
    const results = roundTrip(snapshots, new IdentityMemory());
    results.forEach(({ decoded }, i) => {
      expect(decoded.payload).to.deep.equal({
        type: 'snapshot',
        snapshot: snapshots[i],
      });
    });
    expect(results[1]!.bytes.length).to.be.below(results[0]!.bytes.length);
  });

  it('reuses an unchanged process object, never a stale one', () => {
    const v2 = (p: GpuProcess) => (p.command = 'python3 serve.py --v2');
    const results = roundTrip(
      [
        snapshotAt(T0),
        snapshotAt(T0 + 1000),
        snapshotAt(T0 + 2000),
        // The command changes: sent in full once, then left out again
        // with the very bytes of the entries before the change.
        snapshotAt(T0 + 3000, v2),
        snapshotAt(T0 + 4000, v2),
        snapshotAt(T0 + 5000, (p) => {
          v2(p);
          p.usedBytes = 1;
        }),
      ],
      new IdentityMemory(),
    );
    const process = (i: number, slot: number) => {
      const payload = results[i]!.decoded.payload;
      if (payload.type !== 'snapshot') throw new Error('not a snapshot');
      return payload.snapshot.gpus[0]!.processes[slot]!;
    };
    expect(process(2, 0)).to.equal(process(1, 0));
    expect(process(4, 0)).to.not.equal(process(2, 0));
    expect(process(4, 0).command).to.equal('python3 serve.py --v2');
    expect(process(5, 0).usedBytes).to.equal(1);
    expect(process(5, 1)).to.equal(process(1, 1));
  });

  it('checks again entries of a rejected message when they come back', () => {
    const elider = new IdentityElider();
    const memory = new IdentityMemory();
    const oldStart = (p: GpuProcess) =>
      (p.startedAt = '1990-01-01T00:00:00.000Z');
    const snapshots = [0, 1, 2].map((i) => {
      const snapshot = snapshotAt(T0 + i * 1000);
      for (const gpu of snapshot.gpus) gpu.processes.forEach(oldStart);
      return snapshot;
    });
    const verdicts = snapshots.map((snapshot, i) => {
      const bytes = encodeAgentMessage(proto, message(i + 1, snapshot), elider);
      const decoded = decodeAgentMessage(proto, bytes, memory);
      if (!decoded.ok) throw new Error(decoded.error.reason);
      const problem = validateAgentMessage(decoded.value, memory);
      if (problem === null) memory.commit(T0);
      else memory.discard();
      return problem;
    });
    for (const problem of verdicts) {
      expect(problem).to.match(/^processes\.startedAt must be a time/);
    }
  });

  it('leaves identities unknown (null) when the collector has none', () => {
    const [, second] = roundTrip([snapshotAt(T0), snapshotAt(T0 + 1000)], null);
    const payload = second!.decoded.payload;
    if (payload.type !== 'snapshot') throw new Error('not a snapshot');
    const first = payload.snapshot.gpus[0]!.processes[0]!;
    expect(first).to.deep.include({
      name: null,
      user: null,
      command: null,
      startedAt: '2026-02-28T09:12:45.000Z',
      usedBytes: 2_147_483_648,
    });
  });

  it('fills them in the same way on the fast and the general path', () => {
    const elider = new IdentityElider();
    const fast = new IdentityMemory();
    const general = new IdentityMemory();
    for (let seq = 1; seq <= 3; seq += 1) {
      const snapshot = snapshotAt(T0 + seq * 1000);
      const bytes = encodeAgentMessage(proto, message(seq, snapshot), elider);
      const a = decodeAgentMessage(proto, bytes, fast);
      const b = decodeGeneral(proto, bytes, general);
      expect(a).to.deep.equal(b);
      fast.commit(T0 + seq * 1000);
      general.commit(T0 + seq * 1000);
    }
  });

  it('rejects an entry that says as before yet carries identity or no start', () => {
    const wire = (process: Record<string, unknown>) =>
      Buffer.from(
        proto.types.agentMessage
          .encode({
            node: 'jasper',
            seq: 1,
            sentAtMs: T0,
            snapshot: {
              node: 'jasper',
              takenAtMs: T0,
              source: 1,
              gpus: [{ index: 0, uuid: 'GPU-a', processes: [process] }],
            },
          })
          .finish(),
      );
    const named = decodeAgentMessage(
      proto,
      wire({
        pid: 7,
        type: 1,
        startedAtMs: T0,
        identityAsBefore: true,
        name: 'x',
      }),
      new IdentityMemory(),
    );
    expect(named.ok).to.equal(false);
    if (!named.ok) {
      expect(`${named.error.field} ${named.error.reason}`).to.equal(
        'process.name must be absent when identityAsBefore is set',
      );
      expect(named.error.seq).to.equal(1);
    }
    const noStart = decodeAgentMessage(
      proto,
      wire({ pid: 7, type: 1, identityAsBefore: true }),
      new IdentityMemory(),
    );
    expect(noStart.ok).to.equal(false);
    if (!noStart.ok) {
      expect(noStart.error.reason).to.equal(
        'needs startedAtMs or startTimeTicks',
      );
    }
  });

  it('makes a steady 8-GPU x 16-process snapshot under half its full size', () => {
    const big = (atMs: number) => {
      const snapshot = sampleSnapshot('jasper');
      snapshot.takenAt = new Date(atMs).toISOString();
      return snapshot;
    };
    const [full, steady] = roundTrip(
      [big(T0), big(T0 + 1000)],
      new IdentityMemory(),
    );
    expect(steady!.bytes.length).to.be.below(full!.bytes.length / 2);
  });
});
