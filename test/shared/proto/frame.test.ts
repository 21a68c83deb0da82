import { expect } from 'chai';
import {
  buildFrame,
  framedLength,
  splitFrame,
} from '../../../shared/src/proto/frame.ts';

describe('frames', () => {
  it('splits a built frame back into its opening and messages', () => {
    const open = Buffer.from('open');
    const messages = [
      Buffer.alloc(3, 1),
      Buffer.alloc(300, 2),
      Buffer.alloc(0),
    ];

    const split = splitFrame(buildFrame(open, messages));

    expect(split.ok && split.value.open?.toString()).to.equal('open');
    expect(split.ok && split.value.messages.map((m) => m.length)).to.deep.equal(
      [3, 300, 0],
    );
  });

  it('counts the framed length of a message', () => {
    expect(buildFrame(null, [Buffer.alloc(300)]).length).to.equal(
      framedLength(300),
    );
  });

  it('reports a truncated frame', () => {
    const frame = buildFrame(null, [Buffer.alloc(300)]);

    const split = splitFrame(frame.subarray(0, 100));

    expect(split).to.deep.equal({
      ok: false,
      error: 'frame is truncated at byte 0',
    });
  });

  it('reports a field it does not know', () => {
    expect(splitFrame(Buffer.from([0x1a, 0x00])).ok).to.equal(false);
  });
});
