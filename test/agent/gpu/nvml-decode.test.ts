import { expect } from 'chai';
import {
  MEMORY_V2_VERSION,
  chooseProcessStride,
  decodeCString,
  decodeMemoryV1,
  decodeMemoryV2,
  decodePciBusId,
  decodeProcessEntries,
  readBytes64,
} from '../../../agent/src/gpu/nvml-decode.ts';

const SENTINEL = 0xffffffffffffffffn;
const NOT_MIG = 0xffffffff;

interface Entry {
  pid: number;
  used: bigint;
  gi?: number;
  ci?: number;
}

/** Writes entries as a driver would, `stride` bytes each. */
function entries(stride: number, list: Entry[], capacity = 16): Buffer {
  const buf = Buffer.alloc(capacity * 32);
  list.forEach((e, i) => {
    const at = i * stride;
    buf.writeUInt32LE(e.pid, at);
    buf.writeBigUInt64LE(e.used, at + 8);
    if (stride >= 24) {
      buf.writeUInt32LE(e.gi ?? NOT_MIG, at + 16);
      buf.writeUInt32LE(e.ci ?? NOT_MIG, at + 20);
    }
  });
  return buf;
}

describe('nvml-decode', () => {
  describe('decodeCString()', () => {
    it('decodes a name that is not valid UTF-8 with replacement characters instead of throwing', () => {
      const buf = Buffer.alloc(96);
      Buffer.from([0xf8, 0x80, 0x41, 0x42]).copy(buf);

      const name = decodeCString(buf);

      expect(name).to.equal('\uFFFD\uFFFDAB');
    });

    it('stops at the first NUL and gives null for an empty string', () => {
      const buf = Buffer.from('GPU-1\0garbage\0', 'latin1');

      expect(decodeCString(buf)).to.equal('GPU-1');
      expect(decodeCString(Buffer.alloc(8))).to.equal(null);
    });
  });

  describe('readBytes64()', () => {
    it('keeps the 0xFFFFFFFFFFFFFFFF sentinel as null, never 16 EiB', () => {
      const buf = Buffer.alloc(8);
      buf.writeBigUInt64LE(SENTINEL);

      expect(readBytes64(buf, 0)).to.equal(null);
    });

    it('reads byte counts beyond 32 bits exactly', () => {
      const buf = Buffer.alloc(8);
      buf.writeBigUInt64LE(85_520_809_984n);

      expect(readBytes64(buf, 0)).to.equal(85_520_809_984);
    });
  });

  describe('memory', () => {
    it('reads nvmlMemory_v2_t with reserved between total and free', () => {
      const buf = Buffer.alloc(40);
      buf.writeUInt32LE(MEMORY_V2_VERSION, 0);
      buf.writeBigUInt64LE(17_179_869_184n, 8);
      buf.writeBigUInt64LE(108_003_328n, 16);
      buf.writeBigUInt64LE(17_071_865_856n, 24);
      buf.writeBigUInt64LE(0n, 32);

      expect(decodeMemoryV2(buf)).to.deep.equal({
        totalBytes: 17_179_869_184,
        reservedBytes: 108_003_328,
        freeBytes: 17_071_865_856,
        usedBytes: 0,
      });
      expect(MEMORY_V2_VERSION).to.equal(0x02000028);
    });

    it('reads nvmlMemory_t v1 with reserved unknown', () => {
      const buf = Buffer.alloc(24);
      buf.writeBigUInt64LE(100n, 0);
      buf.writeBigUInt64LE(60n, 8);
      buf.writeBigUInt64LE(40n, 16);

      expect(decodeMemoryV1(buf)).to.deep.equal({
        totalBytes: 100,
        freeBytes: 60,
        usedBytes: 40,
        reservedBytes: null,
      });
    });
  });

  it('reads the PCI bus id from offset 36 of nvmlPciInfo_t v3', () => {
    const buf = Buffer.alloc(68);
    buf.write('0000:01:00.0', 0, 'latin1');
    buf.write('00000000:01:00.0', 36, 'latin1');

    expect(decodePciBusId(buf)).to.equal('00000000:01:00.0');
  });

  describe('chooseProcessStride()', () => {
    const totalBytes = 24 * 2 ** 30;
    const list: Entry[] = [
      { pid: 1184, used: SENTINEL },
      { pid: 16040, used: SENTINEL },
      { pid: 2056, used: 1_061_158_912n },
    ];

    it('rejects 32-byte entries read as 24 bytes (scrambled pids 0 and 4294967295) and finds 32', () => {
      const buf = entries(32, list);

      const wrong = decodeProcessEntries(buf, 3, 24).map((e) => e.pid);
      const stride = chooseProcessStride(buf, 3, [24, 32, 16], totalBytes);

      expect(wrong).to.deep.equal([1184, 0, NOT_MIG]);
      expect(stride).to.equal(32);
      expect(decodeProcessEntries(buf, 3, 32).map((e) => e.pid)).to.deep.equal([
        1184, 16040, 2056,
      ]);
    });

    it('keeps 24-byte entries at 24 when that is the preferred stride', () => {
      const buf = entries(24, list);

      expect(chooseProcessStride(buf, 3, [24, 32, 16], totalBytes)).to.equal(
        24,
      );
    });

    it('finds 16-byte legacy entries written by a _v3 symbol', () => {
      const buf = entries(16, list);

      expect(chooseProcessStride(buf, 3, [24, 32, 16], totalBytes)).to.equal(
        16,
      );
    });

    it('gives null when no stride explains the entries', () => {
      const buf = Buffer.alloc(16 * 32, 0xab);

      expect(chooseProcessStride(buf, 3, [24, 32, 16], totalBytes)).to.equal(
        null,
      );
    });

    it('rejects memory larger than the device total', () => {
      const buf = entries(24, [{ pid: 10, used: 2n ** 40n }]);

      expect(chooseProcessStride(buf, 1, [24], totalBytes)).to.equal(null);
    });
  });

  it('decodes GI/CI 0xFFFFFFFF as not MIG and small ids as the MIG slice', () => {
    const buf = entries(24, [
      { pid: 7, used: 5n },
      { pid: 8, used: 6n, gi: 2, ci: 0 },
    ]);

    const decoded = decodeProcessEntries(buf, 2, 24);

    expect(decoded).to.deep.equal([
      { pid: 7, usedBytes: 5, gpuInstanceId: null, computeInstanceId: null },
      { pid: 8, usedBytes: 6, gpuInstanceId: 2, computeInstanceId: 0 },
    ]);
  });
});
