import { expect } from 'chai';
import fc from 'fast-check';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import {
  decodeAgentMessage,
  decodeGeneral,
  encodeAgentMessage,
} from '../../../shared/src/proto/message-codec.ts';
import { readSnapshotMessage } from '../../../shared/src/proto/snapshot-reader.ts';
import type { GpuProcess, Snapshot } from '../../../shared/src/snapshot.ts';
import {
  samplePayloads,
  sampleMessage,
  sampleSnapshot,
} from '../../support/link-fixtures.ts';

const proto = loadLinkProto();

function snapshotBytes(snapshot: Snapshot, seq = 7): Buffer {
  return encodeAgentMessage(
    proto,
    sampleMessage('jasper', seq, { type: 'snapshot', snapshot }),
  );
}

const optionalText = fc.option(fc.string({ maxLength: 40 }), { nil: null });
// Mostly below 2^49 (the fast path's range), some above (general path).
const optionalBytes = fc.option(
  fc.oneof(
    { weight: 20, arbitrary: fc.nat({ max: 2 ** 49 - 1 }) },
    { weight: 1, arbitrary: fc.nat({ max: 2 ** 53 - 1 }) },
  ),
  { nil: null },
);

const processArb: fc.Arbitrary<GpuProcess> = fc.record(
  {
    pid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    name: optionalText,
    type: fc.constantFrom('compute', 'graphics', 'compute+graphics'),
    usedBytes: optionalBytes,
    user: optionalText,
    command: fc.option(fc.string({ unit: 'grapheme', maxLength: 200 }), {
      nil: null,
    }),
    startedAt: fc.option(
      fc
        .integer({ min: 0, max: 8_000_000_000_000 })
        .map((ms) => new Date(ms).toISOString()),
      { nil: null },
    ),
    uid: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: null }),
    ppid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    unit: optionalText,
    cgroup: fc.string(),
    startTimeTicks: optionalBytes,
    oomScoreAdj: fc.integer({ min: -1000, max: 1000 }),
    resolved: fc.boolean(),
    protected: fc.boolean(),
  },
  {
    requiredKeys: [
      'pid',
      'name',
      'type',
      'usedBytes',
      'user',
      'command',
      'startedAt',
    ],
  },
);

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    processes: fc.array(processArb, { maxLength: 4 }),
    totalBytes: optionalBytes,
    temperatureC: fc.option(fc.double(), { nil: null }),
    migEnabled: fc.option(fc.boolean(), { nil: null }),
    takenAtMs: fc.integer({ min: 0, max: 2 ** 49 }),
    source: fc.constantFrom('nvml', 'nvidia-smi'),
  })
  .map((r) => {
    const snapshot = sampleSnapshot('jasper', 2, 1);
    snapshot.takenAt = new Date(r.takenAtMs).toISOString();
    snapshot.source = r.source as Snapshot['source'];
    const gpu = snapshot.gpus[1]!;
    gpu.processes = r.processes;
    gpu.memory.totalBytes = r.totalBytes;
    gpu.temperatureC = r.temperatureC;
    gpu.migEnabled = r.migEnabled;
    snapshot.problems.push({ kind: 'k', message: 'm' });
    return snapshot;
  });

describe('snapshot reader (fast decoding path)', () => {
  it('takes the fast path for a well-formed snapshot message', () => {
    const bytes = snapshotBytes(sampleSnapshot('jasper'));

    const fast = readSnapshotMessage(bytes, proto);

    expect(fast).to.not.equal(null);
    expect(fast).to.deep.equal(
      (decodeGeneral(proto, bytes) as { value: unknown }).value,
    );
  });

  it('decodes what the general path decodes, key order included', () => {
    let fastCount = 0;
    fc.assert(
      fc.property(snapshotArb, (snapshot) => {
        const bytes = snapshotBytes(snapshot);
        const general = decodeGeneral(proto, bytes);
        const fast = readSnapshotMessage(bytes, proto);
        if (fast === null) return;
        fastCount += 1;
        expect(general.ok).to.equal(true);
        expect(JSON.stringify(fast)).to.equal(
          JSON.stringify(general.ok && general.value),
        );
        expect(fast).to.deep.equal(general.ok && general.value);
      }),
      { numRuns: 300 },
    );
    expect(fastCount).to.be.greaterThan(150);
  });

  it('agrees with the general path on damaged bytes', () => {
    const base = snapshotBytes(samplePayloadSnapshot());
    fc.assert(
      fc.property(
        fc.nat({ max: base.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: base.length }),
        (at, value, cut) => {
          const bytes = Buffer.from(base);
          bytes[at] = value;
          const damaged = bytes.subarray(0, Math.max(cut, at + 1));
          const viaCodec = decodeAgentMessage(proto, damaged);
          const general = decodeGeneral(proto, damaged);
          expect(JSON.stringify(viaCodec)).to.equal(JSON.stringify(general));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('leaves other payloads, and problems, to the general path', () => {
    for (const payload of samplePayloads('jasper')) {
      const bytes = encodeAgentMessage(
        proto,
        sampleMessage('jasper', 3, payload),
      );
      const fast = readSnapshotMessage(bytes, proto);
      expect(fast === null).to.equal(payload.type !== 'snapshot');
    }
    const unknownType = proto.types.agentMessage
      .encode({
        node: 'jasper',
        seq: 5,
        sentAtMs: 1,
        snapshot: { node: 'jasper', takenAtMs: 1, source: 7 },
      })
      .finish();
    expect(readSnapshotMessage(Buffer.from(unknownType), proto)).to.equal(null);
    expect(decodeAgentMessage(proto, unknownType)).to.deep.include({
      ok: false,
    });
  });

  it('skips fields it does not know, as protobufjs does', () => {
    const bytes = snapshotBytes(sampleSnapshot('jasper', 1, 1));
    // Field 99, length-delimited, 3 bytes: a future addition.
    const extended = Buffer.concat([
      bytes,
      Buffer.from([0x9a, 0x06, 3, 1, 2, 3]),
    ]);

    const fast = readSnapshotMessage(extended, proto);

    expect(fast).to.deep.equal(
      (decodeGeneral(proto, extended) as { value: unknown }).value,
    );
  });
});

function samplePayloadSnapshot(): Snapshot {
  const payload = samplePayloads('jasper').find((p) => p.type === 'snapshot');
  if (payload?.type !== 'snapshot') throw new Error('no snapshot fixture');
  return payload.snapshot;
}
