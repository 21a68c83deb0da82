import { expect } from 'chai';
import {
  CONFIG_PATH_SETTINGS,
  FLAG_PATH_SETTINGS,
  describeAllFailed,
} from '../../../agent/src/gpu/sampler-failure.ts';
import type {
  FailureContext,
  SourceAttempt,
} from '../../../agent/src/gpu/sampler-failure.ts';

const DEFAULTS: FailureContext = {
  nvmlLibraryPath: 'libnvidia-ml.so.1',
  nvidiaSmiPath: 'nvidia-smi',
  pathSettings: CONFIG_PATH_SETTINGS,
};

const nvml = (kind: string, message = `${kind} detail`): SourceAttempt => ({
  source: 'nvml',
  failure: { kind, message, retryable: true },
});
const smi = (kind: string, message = `${kind} detail`): SourceAttempt => ({
  source: 'nvidia-smi',
  failure: { kind, message, retryable: true },
});
// The nvidia-smi source's own wording of a failed start.
const smiNotStarted = (path: string, errno: string) =>
  smi(
    'smi_not_runnable',
    `nvidia-smi could not be started as "${path}" (spawn ${path} ${errno}): install the NVIDIA driver utilities or point --nvidia-smi / nvidiaSmiPath at the program`,
  );

describe('describeAllFailed()', () => {
  it('says there is no driver when neither NVML nor nvidia-smi exists', () => {
    const text = describeAllFailed(
      [nvml('library_missing'), smiNotStarted('nvidia-smi', 'ENOENT')],
      DEFAULTS,
    );

    expect(text).to.equal(
      'no NVIDIA GPU or driver found on this host (libnvidia-ml.so.1 not loadable, nvidia-smi not on PATH); install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU',
    );
  });

  it('names the settings that were changed from their defaults', () => {
    const text = describeAllFailed(
      [nvml('library_missing'), smiNotStarted('/opt/bin/nvidia-smi', 'ENOENT')],
      {
        ...DEFAULTS,
        nvidiaSmiPath: '/opt/bin/nvidia-smi',
        pathSettings: FLAG_PATH_SETTINGS,
      },
    );

    expect(text).to.equal(
      'no NVIDIA GPU or driver found on this host (libnvidia-ml.so.1 not loadable, /opt/bin/nvidia-smi not found); check --nvml-lib and --nvidia-smi, or install the NVIDIA driver, or run npm run demo to see gpuwarden on a simulated GPU',
    );
  });

  it('names no setting when the command has none', () => {
    const text = describeAllFailed(
      [nvml('library_missing'), smiNotStarted('/x/nvidia-smi', 'ENOENT')],
      { ...DEFAULTS, nvidiaSmiPath: '/x/nvidia-smi', pathSettings: null },
    );

    expect(text).to.not.match(/--nvml-lib|sampling\./);
    expect(text).to.contain('install the NVIDIA driver');
  });

  it('points at the kernel module when the driver is not loaded', () => {
    const text = describeAllFailed(
      [nvml('driver_not_loaded'), smi('driver_not_loaded')],
      DEFAULTS,
    );

    expect(text).to.equal(
      'no GPU source could be read (NVML: driver not loaded, nvidia-smi: driver not loaded); load the NVIDIA kernel module (modprobe nvidia) and check dmesg',
    );
  });

  it('says reboot after a driver upgrade, whatever the other source says', () => {
    const text = describeAllFailed(
      [nvml('library_missing'), smi('driver_mismatch')],
      DEFAULTS,
    );

    expect(text).to.equal(
      'no GPU source could be read (libnvidia-ml.so.1 not loadable, nvidia-smi: driver/library version mismatch); the driver was upgraded without a reboot: reboot, or reload the nvidia kernel modules',
    );
  });

  it('says a program that cannot be run is not executable', () => {
    const text = describeAllFailed(
      [nvml('no_permission'), smiNotStarted('/usr/bin/nvidia-smi', 'EACCES')],
      { ...DEFAULTS, nvidiaSmiPath: '/usr/bin/nvidia-smi' },
    );

    expect(text).to.equal(
      'no GPU source could be read (NVML: no permission on /dev/nvidia*, /usr/bin/nvidia-smi not executable); run as a user that can open /dev/nvidia* (in a container, pass the GPU devices in)',
    );
  });

  it('names an unfamiliar failure by its kind', () => {
    const text = describeAllFailed(
      [nvml('nvml_error'), smi('smi_failed')],
      DEFAULTS,
    );

    expect(text).to.equal(
      'no GPU source could be read (NVML: failed (nvml_error), nvidia-smi: failed (smi_failed)); run nvidia-smi by hand to see why',
    );
  });

  it('stays one short line', () => {
    const text = describeAllFailed(
      [nvml('library_missing'), smiNotStarted('nvidia-smi', 'ENOENT')],
      DEFAULTS,
    );

    expect(text).to.not.contain('\n');
    expect(text.length).to.be.below(200);
  });
});
