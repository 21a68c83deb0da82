import { expect } from 'chai';
import { classifySmiError } from '../../../agent/src/gpu/smi-errors.ts';
import { smiFixtureText } from '../../fakes/nvidia-smi/fixture.ts';

describe('classifySmiError()', () => {
  const cases: [string, number, string, boolean][] = [
    [
      'err-cannot-communicate-with-driver-exit9-nvidia-gpu-exporter-65.txt',
      9,
      'driver_not_loaded',
      true,
    ],
    [
      'err-driver-library-version-mismatch-exit18-gputil-55.txt',
      18,
      'driver_mismatch',
      true,
    ],
    ['err-no-devices-were-found-singuconda-6.txt', 6, 'no_devices', false],
    [
      'err-no-supported-gpus-exit255-dra-driver-nvidia-gpu-1008.txt',
      255,
      'no_devices',
      false,
    ],
    [
      'err-device-handle-unknown-error-nvidia-docker-1553.txt',
      15,
      'gpu_lost',
      false,
    ],
  ];
  for (const [file, exitCode, kind, retryable] of cases) {
    it(`classifies ${file} as ${kind}`, () => {
      const failure = classifySmiError(exitCode, smiFixtureText(file), '');

      expect(failure?.kind).to.equal(kind);
      expect(failure?.retryable).to.equal(retryable);
      expect(failure?.message).to.include(`exit ${exitCode}`);
      expect(failure?.message).not.to.include('\n');
    });
  }

  it('quotes the first line and gives a hint', () => {
    const failure = classifySmiError(
      18,
      smiFixtureText(
        'err-driver-library-version-mismatch-exit18-gputil-55.txt',
      ),
      '',
    );

    expect(failure?.message).to.include(
      '"Failed to initialize NVML: Driver/library version mismatch"',
    );
    expect(failure?.message).to.include('reboot');
  });

  it('classifies insufficient permissions', () => {
    const failure = classifySmiError(
      4,
      'Failed to initialize NVML: Insufficient Permissions\n',
      '',
    );

    expect(failure?.kind).to.equal('no_permission');
  });

  it('classifies a missing NVML library from stderr', () => {
    const failure = classifySmiError(
      12,
      '',
      "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system.",
    );

    expect(failure?.kind).to.equal('library_missing');
  });

  it('falls back to the exit status when the text is unknown', () => {
    expect(classifySmiError(9, '', '')?.kind).to.equal('driver_not_loaded');
  });

  it('keeps an unknown failure as smi_failed with the status', () => {
    const failure = classifySmiError(3, 'Something odd\n', '');

    expect(failure?.kind).to.equal('smi_failed');
    expect(failure?.message).to.include('status 3');
    expect(failure?.message).to.include('"Something odd"');
  });

  it('returns null for a clean run with data', () => {
    const csv = 'memory.free [MiB]\n[Insufficient Permissions]\n';

    expect(classifySmiError(0, csv, '')).to.equal(null);
    expect(classifySmiError(0, '[Insufficient Permissions]\n', '')).to.equal(
      null,
    );
    expect(classifySmiError(0, '<?xml version="1.0" ?>', '')).to.equal(null);
  });

  it('classifies an error text even after exit status 0', () => {
    expect(classifySmiError(0, 'No devices were found\n', '')?.kind).to.equal(
      'no_devices',
    );
  });
});
