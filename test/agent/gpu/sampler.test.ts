import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSampler } from '../../../agent/src/gpu/sampler.ts';
import type { SamplerOptions } from '../../../agent/src/gpu/sampler.ts';
import type {
  GpuSource,
  RawGpu,
  SourceFailure,
  SourceSample,
} from '../../../agent/src/gpu/source.ts';
import { GpuwardenError } from '../../../shared/src/errors.ts';
import { createNodeFs } from '../../../shared/src/fs.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { SampleSource } from '../../../shared/src/snapshot.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { createMemoryLogger } from '../../support/memory-logger.ts';

const fixtures = fileURLToPath(
  new URL('../../fixtures/proc/', import.meta.url),
);
const GIB = 2 ** 30;
const UUID = 'GPU-4a3f7c1e-8b2d-4e6f-9a1c-3d5e7f9b2c4a';

function rawGpu(processes: RawGpu['processes']): RawGpu {
  return {
    index: 0,
    uuid: UUID,
    name: 'NVIDIA GeForce RTX 4090',
    pciBusId: '00000000:01:00.0',
    memory: {
      totalBytes: 24 * GIB,
      usedBytes: 23 * GIB,
      freeBytes: GIB,
      reservedBytes: null,
    },
    utilizationPercent: { gpu: 35, memory: 20 },
    temperatureC: 61,
    powerWatts: 285,
    migEnabled: null,
    processes,
  };
}

function sampleOf(source: SampleSource): SourceSample {
  return {
    source,
    driverVersion: '550.54.14',
    gpus: [
      rawGpu([
        { pid: 41872, type: 'compute', usedBytes: 3 * GIB, name: 'code' },
        { pid: 5120, type: 'compute', usedBytes: 20 * GIB, name: 'ollama' },
        { pid: 28290, type: 'compute', usedBytes: GIB, name: 'python' },
      ]),
    ],
    problems: [],
  };
}

const failure = (kind: string): SourceFailure => ({
  kind,
  message: `${kind} happened`,
  retryable: true,
});

/** A source whose next results are set by the test; it counts its calls. */
class ScriptedSource implements GpuSource {
  calls = 0;
  closed = false;
  next: () => Result<SourceSample, SourceFailure>;

  constructor(readonly kind: SampleSource) {
    this.next = () => ok(sampleOf(kind));
  }

  async sample(): Promise<Result<SourceSample, SourceFailure>> {
    this.calls += 1;
    return this.next();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function setup(options: Partial<SamplerOptions> = {}) {
  const clock = new FakeClock();
  const { logger, lines } = createMemoryLogger();
  const nvml = new ScriptedSource('nvml');
  const smi = new ScriptedSource('nvidia-smi');
  const sampler = createSampler(
    { node: 'jasper', source: 'auto', ...options },
    {
      clock,
      logger,
      fs: createNodeFs(),
      exec: () => Promise.reject(new Error('no exec in this test')),
      procRoot: path.join(fixtures, 'root'),
      createSource: (kind) => (kind === 'nvml' ? nvml : smi),
    },
  );
  return { sampler, clock, lines, nvml, smi };
}

describe('createSampler()', () => {
  describe('sampleOnce()', () => {
    it('builds a snapshot with node, time and /proc details', async () => {
      const { sampler } = setup({ passwdPath: path.join(fixtures, 'passwd') });

      const snapshot = await sampler.sampleOnce();

      expect(snapshot.node).to.equal('jasper');
      expect(snapshot.takenAt).to.equal('2026-02-28T14:00:00.000Z');
      expect(snapshot.source).to.equal('nvml');
      const tunnel = snapshot.gpus[0]?.processes[0];
      expect(tunnel).to.include({
        pid: 41872,
        name: 'code-tunnel',
        user: 'dev',
        unit: 'code-tunnel.service',
        startedAt: '2026-02-28T13:47:00.000Z',
        usedBytes: 3 * GIB,
        resolved: true,
      });
    });

    it('keeps the memory and driver name of a pid /proc cannot see', async () => {
      const { sampler } = setup();

      const snapshot = await sampler.sampleOnce();

      const hidden = snapshot.gpus[0]?.processes[2];
      expect(hidden).to.include({
        pid: 28290,
        name: 'python',
        usedBytes: GIB,
        user: null,
        command: null,
        startedAt: null,
        resolved: false,
      });
      expect(snapshot.problems.map((p) => p.kind)).to.deep.equal([
        'pid_unresolved',
      ]);
      expect(snapshot.problems[0]?.message).to.contain('28290');
    });

    it('reports a zombie holder as a problem of its GPU', async () => {
      const { sampler, nvml } = setup();
      nvml.next = () => {
        const sample = sampleOf('nvml');
        sample.gpus[0]!.processes = [
          { pid: 31794, type: 'compute', usedBytes: GIB, name: 'python' },
        ];
        return ok(sample);
      };

      const snapshot = await sampler.sampleOnce();

      expect(snapshot.problems).to.have.length(1);
      expect(snapshot.problems[0]).to.include({
        gpuUuid: UUID,
        kind: 'zombie_holder',
      });
      expect(snapshot.gpus[0]?.processes[0]?.state).to.equal('Z');
    });

    it('skips /proc when enrichment is off', async () => {
      const { sampler } = setup({ enrich: false });

      const snapshot = await sampler.sampleOnce();

      expect(snapshot.gpus[0]?.processes[0]).to.deep.equal({
        pid: 41872,
        name: 'code',
        type: 'compute',
        usedBytes: 3 * GIB,
        user: null,
        command: null,
        startedAt: null,
      });
      expect(snapshot.problems).to.deep.equal([]);
    });

    it('shares one reading between concurrent calls', async () => {
      const { sampler, nvml } = setup();

      const [a, b] = await Promise.all([
        sampler.sampleOnce(),
        sampler.sampleOnce(),
      ]);

      expect(nvml.calls).to.equal(1);
      expect(a).to.equal(b);
    });
  });

  describe('fallback', () => {
    it('falls back to nvidia-smi when NVML fails and says why', async () => {
      const { sampler, nvml } = setup();
      nvml.next = () => err(failure('driver_mismatch'));

      const snapshot = await sampler.sampleOnce();

      expect(snapshot.source).to.equal('nvidia-smi');
      expect(snapshot.problems[0]?.kind).to.equal('source_fallback');
      expect(sampler.health()).to.deep.include({
        source: 'nvidia-smi',
        stale: false,
      });
      expect(sampler.health().lastError).to.contain('driver_mismatch');
    });

    it('tries NVML again only after the retry period, then returns to it', async () => {
      const { sampler, clock, nvml, smi } = setup({ primaryRetryMs: 30_000 });
      nvml.next = () => err(failure('driver_not_loaded'));
      await sampler.sampleOnce();
      nvml.next = () => ok(sampleOf('nvml'));

      await clock.advance(10_000);
      const during = await sampler.sampleOnce();
      await clock.advance(20_000);
      const after = await sampler.sampleOnce();

      expect(during.source).to.equal('nvidia-smi');
      expect(after.source).to.equal('nvml');
      expect(nvml.calls).to.equal(2);
      expect(smi.calls).to.equal(2);
      expect(sampler.health()).to.deep.include({
        source: 'nvml',
        lastError: null,
      });
    });

    it('logs the fallback once and the recovery once', async () => {
      const { sampler, clock, nvml, lines } = setup({ primaryRetryMs: 1000 });
      nvml.next = () => err(failure('driver_not_loaded'));
      for (let i = 0; i < 5; i += 1) {
        await sampler.sampleOnce();
        await clock.advance(1000);
      }
      nvml.next = () => ok(sampleOf('nvml'));
      await sampler.sampleOnce();

      const messages = lines.map((line) => line.msg);
      expect(
        messages.filter((m) => m === 'sampling with fallback gpu source'),
      ).to.have.length(1);
      expect(messages.filter((m) => m === 'gpu source failed')).to.have.length(
        1,
      );
      expect(
        messages.filter((m) => m === 'sampling with preferred gpu source'),
      ).to.have.length(1);
    });

    it('never falls back when a source is forced', async () => {
      const { sampler, nvml, smi } = setup({ source: 'nvml' });
      nvml.next = () => err(failure('library_missing'));

      const result = await sampler.trySample();

      expect(result.ok).to.equal(false);
      expect(smi.calls).to.equal(0);
      expect(!result.ok && result.error.kind).to.equal('library_missing');
    });

    it('throws SOURCE_UNAVAILABLE naming both sources when all fail', async () => {
      const { sampler, nvml, smi } = setup();
      nvml.next = () => err(failure('library_missing'));
      smi.next = () => err(failure('smi_missing'));

      const thrown = await sampler.sampleOnce().then(
        () => null,
        (error: unknown) => error,
      );

      expect(thrown).to.be.instanceOf(GpuwardenError);
      expect((thrown as GpuwardenError).code).to.equal('SOURCE_UNAVAILABLE');
      expect((thrown as Error).message).to.equal(
        'no GPU source could be read (libnvidia-ml.so.1 not loadable, nvidia-smi: failed (smi_missing)); install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU',
      );
      expect(sampler.health()).to.deep.include({
        source: null,
        stale: true,
        lastSampleAtMs: null,
      });
    });

    it("logs each source's full reason once when all fail", async () => {
      const { sampler, nvml, smi, lines } = setup();
      nvml.next = () => err(failure('driver_not_loaded'));
      smi.next = () => err(failure('driver_not_loaded'));

      await sampler.trySample();
      await sampler.trySample();

      const logged = lines.filter(
        (l) => l.msg === 'no gpu source could be read',
      );
      expect(logged).to.have.length(1);
      expect(logged[0]?.reasons).to.deep.equal({
        nvml: 'driver_not_loaded happened',
        'nvidia-smi': 'driver_not_loaded happened',
      });
      expect(sampler.health().lastError).to.equal(
        'no GPU source could be read (NVML: driver not loaded, nvidia-smi: driver not loaded); load the NVIDIA kernel module (modprobe nvidia) and check dmesg',
      );
    });

    it('names the flags when told the command has them', async () => {
      const { sampler, nvml, smi } = setup({
        nvmlLibraryPath: '/opt/nv/libnvidia-ml.so.1',
        pathSettings: { nvml: '--nvml-lib', nvidiaSmi: '--nvidia-smi' },
      });
      nvml.next = () => err(failure('library_missing'));
      smi.next = () => err(failure('smi_failed'));

      const result = await sampler.trySample();

      expect(!result.ok && result.error.message).to.equal(
        'no GPU source could be read (/opt/nv/libnvidia-ml.so.1 not loadable, nvidia-smi: failed (smi_failed)); check --nvml-lib and --nvidia-smi, or install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU',
      );
    });

    it('turns a source that throws into a failure and falls back', async () => {
      const { sampler, nvml } = setup();
      nvml.next = () => {
        throw new Error('koffi exploded');
      };

      const snapshot = await sampler.sampleOnce();

      expect(snapshot.source).to.equal('nvidia-smi');
      expect(sampler.health().lastError).to.contain('koffi exploded');
    });
  });

  describe('health()', () => {
    it('is stale before the first sample and after three intervals', async () => {
      const { sampler, clock } = setup();
      const before = sampler.health();
      await sampler.sampleOnce();
      const fresh = sampler.health();

      await clock.advance(3001);

      expect(before.stale).to.equal(true);
      expect(fresh).to.deep.equal({
        source: 'nvml',
        lastError: null,
        lastSampleAtMs: Date.parse('2026-02-28T14:00:00Z'),
        stale: false,
      });
      expect(sampler.health().stale).to.equal(true);
    });
  });

  describe('intervalMs()', () => {
    it('is 1 s with NVML, 2 s with nvidia-smi, else as configured', async () => {
      const auto = setup();
      const forced = setup({ source: 'nvidia-smi' });
      const configured = setup({ intervalMs: 5000 });

      expect(auto.sampler.intervalMs()).to.equal(1000);
      expect(forced.sampler.intervalMs()).to.equal(2000);
      expect(configured.sampler.intervalMs()).to.equal(5000);
    });
  });

  describe('close()', () => {
    it('closes the sources it opened and no others', async () => {
      const { sampler, nvml, smi } = setup();
      await sampler.sampleOnce();

      await sampler.close();

      expect(nvml.closed).to.equal(true);
      expect(smi.closed).to.equal(false);
    });
  });
});
