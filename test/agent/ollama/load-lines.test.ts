import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseLoadLine } from '../../../agent/src/ollama/load-lines.ts';

const lines = readFileSync(
  new URL('../../fixtures/ollama/load-lines.txt', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line !== '');

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const gib = (n: number) => Math.round(n * GIB);

describe('parseLoadLine()', () => {
  const expected: unknown[] = [
    {
      kind: 'gpu_free',
      gpu: null,
      freeBytes: 6144 * MIB,
      availableBytes: null,
      plannedLayers: 35,
    },
    { kind: 'layers', onGpu: 49, total: 63 },
    { kind: 'layers', onGpu: 58, total: 65 },
    {
      kind: 'buffer',
      device: 'CUDA0',
      what: 'model',
      bytes: Math.round(17210.4 * MIB),
      onCpu: false,
    },
    {
      kind: 'buffer',
      device: 'CPU_Mapped',
      what: 'model',
      bytes: Math.round(2208.11 * MIB),
      onCpu: true,
    },
    {
      kind: 'buffer',
      device: 'CUDA0',
      what: 'kv',
      bytes: 2048 * MIB,
      onCpu: false,
    },
    {
      kind: 'buffer',
      device: 'CUDA0',
      what: 'compute',
      bytes: 312 * MIB,
      onCpu: false,
    },
    {
      kind: 'plan',
      layersModel: 65,
      layersOffload: 58,
      availableBytes: gib(20.6),
      requiredFullBytes: gib(22.9),
      requiredPartialBytes: gib(20.5),
    },
    {
      kind: 'plan',
      layersModel: 65,
      layersOffload: 65,
      availableBytes: gib(22.9),
      requiredFullBytes: gib(20.7),
      requiredPartialBytes: gib(20.7),
    },
    {
      kind: 'gpu_free',
      gpu: 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a',
      freeBytes: gib(3.1),
      availableBytes: null,
      plannedLayers: null,
    },
    {
      kind: 'gpu_free',
      gpu: 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a',
      freeBytes: gib(20.6),
      availableBytes: gib(20.1),
      plannedLayers: null,
    },
    null,
    { kind: 'layers', onGpu: 65, total: 65 },
    {
      kind: 'buffer',
      device: 'CUDA0',
      what: 'model',
      bytes: gib(18.4),
      onCpu: false,
    },
    {
      kind: 'buffer',
      device: 'CPU',
      what: 'model',
      bytes: gib(1.1),
      onCpu: true,
    },
    {
      kind: 'buffer',
      device: 'CUDA0',
      what: 'kv',
      bytes: gib(2),
      onCpu: false,
    },
    {
      kind: 'buffer',
      device: 'CUDA0',
      what: 'compute',
      bytes: 312 * MIB,
      onCpu: false,
    },
    { kind: 'total_memory', bytes: gib(20.7) },
    {
      kind: 'gpu_free',
      gpu: 'CUDA0',
      freeBytes: 20631 * MIB,
      availableBytes: null,
      plannedLayers: null,
    },
    { kind: 'overflow', device: 'CUDA0', layers: 65, overflowing: 7 },
    {
      kind: 'inference_compute',
      gpu: 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a',
      name: 'NVIDIA GeForce RTX 4090',
      totalBytes: gib(23.6),
      availableBytes: gib(22.9),
    },
    { kind: 'default_context', totalVramBytes: gib(23.6), numCtx: 32768 },
    { kind: 'load_start', gpuLayers: 49 },
    { kind: 'load_start', gpuLayers: null },
    { kind: 'load_start', gpuLayers: null },
    { kind: 'load_done', seconds: 3.52 },
    { kind: 'vram_not_recovered', seconds: 5.09 },
    { kind: 'load_failed', reason: 'CUDA error: out of memory' },
    { kind: 'load_failed', reason: 'cudaMalloc failed: out of memory' },
    { kind: 'load_failed', reason: 'unable to allocate CUDA0 buffer' },
    { kind: 'load_failed', reason: 'unable to allocate CUDA0 buffer' },
  ];

  it('has an expectation for every fixture line', () => {
    expect(lines).to.have.length(expected.length);
  });

  lines.forEach((line, i) => {
    it(`reads load line ${i + 1}: ${line.slice(0, 60)}`, () => {
      expect(parseLoadLine(line)?.evidence ?? null).to.deep.equal(expected[i]);
    });
  });

  it('takes the stamp of slog lines and none from raw llama.cpp lines', () => {
    expect(parseLoadLine(lines[7]!)?.atMs).to.equal(
      Date.parse('2026-03-02T13:01:10.118Z'),
    );
    expect(parseLoadLine(lines[2]!)?.atMs).to.equal(null);
  });

  it('says nothing about Gin lines and ordinary messages', () => {
    expect(
      parseLoadLine(
        '[GIN] 2026/03/02 - 14:01:07 | 200 | 1ms | 127.0.0.1 | GET "/api/ps"',
      ),
    ).to.equal(null);
    expect(
      parseLoadLine('time=2026-03-02T14:01:10Z level=INFO msg="Listening"'),
    ).to.equal(null);
  });
});
