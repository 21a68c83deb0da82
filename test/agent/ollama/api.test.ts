import { expect } from 'chai';
import {
  findRunningModel,
  parseGenerate,
  parsePs,
  parseTags,
  parseVersion,
} from '../../../agent/src/ollama/api.ts';

const NOW = Date.parse('2026-03-02T13:00:00Z');

const psBody = {
  models: [
    {
      name: 'qwen2.5:32b',
      model: 'qwen2.5:32b',
      size: 21834240000,
      digest: '3e1f',
      expires_at: '2318-06-11T10:13:52.118734005+01:00',
      size_vram: 18524160000,
      context_length: 8192,
    },
    {
      name: 'nomic-embed-text:latest',
      model: 'nomic-embed-text:latest',
      size: 849346560,
      expires_at: '2026-03-02T14:07:41.502911873+01:00',
    },
  ],
};

describe('Ollama API readers', () => {
  it('reads /api/ps with nanosecond stamps, pinning and omitted size_vram', () => {
    const models = parsePs(psBody, NOW);

    expect(models).to.deep.equal([
      {
        name: 'qwen2.5:32b',
        sizeBytes: 21834240000,
        sizeVramBytes: 18524160000,
        expiresAtMs: Date.parse('2318-06-11T09:13:52.118Z'),
        pinned: true,
        contextLength: 8192,
        digest: '3e1f',
      },
      {
        name: 'nomic-embed-text:latest',
        sizeBytes: 849346560,
        sizeVramBytes: 0,
        expiresAtMs: Date.parse('2026-03-02T13:07:41.502Z'),
        pinned: false,
        contextLength: null,
        digest: null,
      },
    ]);
  });

  it('reads an empty /api/ps as nothing loaded, and junk as null', () => {
    expect(parsePs({ models: [] }, NOW)).to.deep.equal([]);
    expect(parsePs({ oops: 1 }, NOW)).to.equal(null);
    expect(parsePs(null, NOW)).to.equal(null);
  });

  it('finds the watched model with :latest implied, or the first one', () => {
    const models = parsePs(psBody, NOW)!;

    expect(findRunningModel(models, 'nomic-embed-text')?.name).to.equal(
      'nomic-embed-text:latest',
    );
    expect(findRunningModel(models, null)?.name).to.equal('qwen2.5:32b');
    expect(findRunningModel(models, 'llama3:8b')).to.equal(null);
  });

  it('reads version, tags and a final generate object', () => {
    expect(parseVersion({ version: '0.12.6' })).to.equal('0.12.6');
    expect(parseVersion({})).to.equal(null);
    expect(
      parseTags({
        models: [
          { name: 'gpt-oss:120b-cloud', remote_host: 'https://ollama.com:443' },
        ],
      }),
    ).to.deep.equal([
      { name: 'gpt-oss:120b-cloud', sizeBytes: 0, digest: null, remote: true },
    ]);
    expect(
      parseGenerate({
        done: true,
        done_reason: 'stop',
        total_duration: 233610002,
        load_duration: 15904117,
        eval_count: 1,
      }),
    ).to.deep.equal({
      doneReason: 'stop',
      totalDurationMs: 233.610002,
      loadDurationMs: 15.904117,
      promptEvalCount: 0,
      evalCount: 1,
      evalDurationMs: 0,
    });
    expect(parseGenerate({ done: false })).to.equal(null);
  });
});
