import { expect } from 'chai';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import {
  formatRecordingLine,
  parseRecording,
} from '../../../shared/src/proto/recording.ts';
import { sampleMessage, samplePayloads } from '../../support/link-fixtures.ts';

const proto = loadLinkProto();

describe('recording', () => {
  it('reads back what was written, one message per line', () => {
    const messages = samplePayloads('jasper').map((payload, i) =>
      sampleMessage('jasper', i + 1, payload),
    );
    const text = messages.map(formatRecordingLine).join('');

    const parsed = parseRecording(proto, text);

    expect(parsed.problems).to.deep.equal([]);
    expect(parsed.messages).to.deep.equal(messages);
  });

  it('reports bad lines by number and keeps the good ones', () => {
    const good = formatRecordingLine(
      sampleMessage('jasper', 1, samplePayloads('jasper')[2]!),
    );
    const wrongType = JSON.stringify({
      node: 'jasper',
      seq: 2,
      sentAtMs: 1772287200000,
      payload: {
        type: 'sli',
        sli: {
          source: 'probe',
          workload: 'ollama',
          model: null,
          intervalStartMs: 'soon',
        },
      },
    });
    const text = `${good}{"torn\n${wrongType}\n{"node":"jasper","seq":3,"sentAtMs":1,"payload":{"type":"nope"}}\n`;

    const parsed = parseRecording(proto, text);

    expect(parsed.messages.map((m) => m.seq)).to.deep.equal([1]);
    expect(parsed.problems.map((p) => p.line)).to.deep.equal([2, 3, 4]);
    expect(parsed.problems[0]!.reason).to.equal('is not JSON');
    expect(parsed.problems[2]!.reason).to.match(/^payload.type must be one of/);
  });
});
