import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { createRecorder } from '../../../agent/src/link/recorder.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { loadLinkProto } from '../../../shared/src/proto/link-proto.ts';
import { parseRecording } from '../../../shared/src/proto/recording.ts';
import { sampleMessage, samplePayloads } from '../../support/link-fixtures.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';
import { tempDir } from '../../support/link-harness.ts';

describe('createRecorder()', () => {
  it('appends every message as a JSON line that parseRecording reads back', async () => {
    const file = path.join(tempDir(), 'stream.jsonl');
    const recorder = createRecorder(file, {
      fs: createNodeFs(),
      logger: createMemoryLogger().logger,
    });
    const messages = samplePayloads('jasper').map((payload, i) =>
      sampleMessage('jasper', i + 1, payload),
    );

    messages.forEach((message) => recorder.record(message));
    await recorder.flush();

    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter(Boolean)).to.have.length(messages.length);
    expect(parseRecording(loadLinkProto(), text).messages).to.deep.equal(
      messages,
    );
  });

  it('logs a failing write once and keeps going', async () => {
    const { logger, lines } = createMemoryLogger();
    const recorder = createRecorder(
      path.join(tempDir(), 'missing', 'dir', 'x.jsonl'),
      { fs: createNodeFs(), logger },
    );

    recorder.record(sampleMessage('jasper', 1, samplePayloads('jasper')[2]!));
    await recorder.flush();
    recorder.record(sampleMessage('jasper', 2, samplePayloads('jasper')[2]!));
    await recorder.flush();

    expect(
      lines.filter((line) => line.msg === 'recording write failed; lines lost'),
    ).to.have.length(1);
  });
});
