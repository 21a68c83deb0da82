import { expect } from 'chai';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import {
  collectorReplyFromWire,
  decodeAgentMessage,
  decodeStreamOpen,
  encodeAgentMessage,
  encodeStreamOpen,
} from '../../../shared/src/proto/message-codec.ts';
import {
  samplePayloads,
  sampleMessage,
  sampleSnapshot,
} from '../../support/link-fixtures.ts';

const proto = loadLinkProto();

function roundTrip(message: ReturnType<typeof sampleMessage>) {
  const decoded = decodeAgentMessage(proto, encodeAgentMessage(proto, message));
  if (!decoded.ok)
    throw new Error(`${decoded.error.field} ${decoded.error.reason}`);
  return decoded.value;
}

describe('message codec', () => {
  describe('encodeAgentMessage() and decodeAgentMessage()', () => {
    for (const payload of samplePayloads('jasper')) {
      it(`round-trips a ${payload.type} message unchanged`, () => {
        const message = sampleMessage('jasper', 7, payload);

        expect(roundTrip(message)).to.deep.equal(message);
      });
    }

    it('carries a negative deficit (a surplus) exactly', () => {
      const guard = samplePayloads('jasper').find((p) => p.type === 'guard');
      if (guard?.type !== 'guard')
        throw new Error('fixture has no guard event');
      const payload = {
        ...guard,
        guard: {
          ...guard.guard,
          kind: 'recovered' as const,
          deficitBytes: -3_221_225_472,
        },
      };

      const back = roundTrip(sampleMessage('jasper', 9, payload));

      expect(back.payload).to.deep.equal(payload);
    });

    it('keeps unknown values null and zero values zero', () => {
      const snapshot = sampleSnapshot('jasper', 1, 1);
      const gpu = snapshot.gpus[0]!;
      gpu.memory = {
        totalBytes: null,
        usedBytes: 0,
        freeBytes: null,
        reservedBytes: 0,
      };
      gpu.utilizationPercent = { gpu: 0, memory: null };
      gpu.temperatureC = null;
      gpu.powerWatts = 0;
      gpu.processes[0]!.usedBytes = null;

      const back = roundTrip(
        sampleMessage('jasper', 1, { type: 'snapshot', snapshot }),
      );

      expect(
        back.payload.type === 'snapshot' && back.payload.snapshot.gpus[0],
      ).to.deep.include({
        memory: {
          totalBytes: null,
          usedBytes: 0,
          freeBytes: null,
          reservedBytes: 0,
        },
        utilizationPercent: { gpu: 0, memory: null },
        temperatureC: null,
        powerWatts: 0,
      });
      expect(
        back.payload.type === 'snapshot' &&
          back.payload.snapshot.gpus[0]!.processes[0]!.usedBytes,
      ).to.equal(null);
    });

    it('carries the largest exact integer (2^53 - 1) exactly', () => {
      const snapshot = sampleSnapshot('jasper', 1, 1);
      snapshot.gpus[0]!.memory.totalBytes = Number.MAX_SAFE_INTEGER;
      const message = sampleMessage('jasper', Number.MAX_SAFE_INTEGER, {
        type: 'snapshot',
        snapshot,
      });
      message.sentAtMs = 1772287200000;

      const back = roundTrip(message);

      expect(back.seq).to.equal(Number.MAX_SAFE_INTEGER);
      expect(
        back.payload.type === 'snapshot' &&
          back.payload.snapshot.gpus[0]!.memory.totalBytes,
      ).to.equal(Number.MAX_SAFE_INTEGER);
    });

    it('refuses an integer above 2^53 instead of rounding it', () => {
      const Gpu = proto.types.agentMessage.lookupType(
        'gpuwarden.v1.AgentMessage',
      );
      const bytes = Gpu.encode({
        node: 'jasper',
        seq: '9007199254740993',
        sentAtMs: 1,
        sli: {},
      }).finish();

      const decoded = decodeAgentMessage(proto, bytes);

      expect(decoded.ok).to.equal(false);
      expect(!decoded.ok && decoded.error).to.deep.include({
        field: 'seq',
        seq: null,
      });
    });

    it('reports an unknown enum value with the message seq', () => {
      const bytes = proto.types.agentMessage
        .encode({
          node: 'jasper',
          seq: 5,
          sentAtMs: 1,
          health: { atMs: 1, component: 9, status: 1 },
        })
        .finish();

      const decoded = decodeAgentMessage(proto, bytes);

      expect(!decoded.ok && decoded.error).to.deep.equal({
        field: 'health.component',
        reason: 'has unknown enum value 9',
        seq: 5,
      });
    });

    it('reports a message without payload', () => {
      const bytes = proto.types.agentMessage
        .encode({ node: 'jasper', seq: 5, sentAtMs: 1 })
        .finish();

      const decoded = decodeAgentMessage(proto, bytes);

      expect(!decoded.ok && decoded.error.field).to.equal('payload');
    });

    it('reports garbage bytes as undecodable', () => {
      const decoded = decodeAgentMessage(
        proto,
        Buffer.from([0x0a, 0xff, 0xff, 0xff]),
      );

      expect(!decoded.ok && decoded.error.field).to.equal('(bytes)');
    });
  });

  describe('encodeStreamOpen()', () => {
    it('round-trips the opening with its hello', () => {
      const hello = samplePayloads('jasper')[0]!;
      const open = {
        node: 'jasper',
        agentVersion: '0.1.0',
        hello: hello.type === 'hello' ? hello.hello : null,
      };

      const back = decodeStreamOpen(proto, encodeStreamOpen(proto, open));

      expect(back).to.deep.equal({ ok: true, value: open });
    });

    it('keeps an absent hello null', () => {
      const back = decodeStreamOpen(
        proto,
        encodeStreamOpen(proto, {
          node: 'jasper',
          agentVersion: '1',
          hello: null,
        }),
      );

      expect(back.ok && back.value.hello).to.equal(null);
    });
  });

  describe('collectorReplyFromWire()', () => {
    it('reads acks with int64 as strings exactly', () => {
      expect(
        collectorReplyFromWire({
          ack: { seq: '9007199254740991' },
          body: 'ack',
        }),
      ).to.deep.equal({ type: 'ack', seq: 9007199254740991 });
    });

    it('ignores a reply it does not know', () => {
      expect(collectorReplyFromWire({ policy: {} })).to.equal(null);
    });
  });
});
