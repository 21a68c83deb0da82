/**
 * Compiles the fake `libnvidia-ml.so.1` (test/fakes/libnvidia-ml/fake-nvml.c)
 * with gcc, synchronously, into `test/fakes/build/`. It compiles only when
 * the C source is newer than the library, so calling it from every test
 * file's `before` hook costs a `stat` after the first build (~0.4 s).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which driver's symbol set the fake exports. */
export type FakeNvmlProfile = 'driver590' | 'driver470';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'libnvidia-ml', 'fake-nvml.c');

const DEFINES: Record<FakeNvmlProfile, string[]> = {
  driver590: [],
  // No nvmlDeviceGetMemoryInfo_v2, no _v3 process calls, no TemperatureV.
  driver470: ['-DFAKE_NVML_DRIVER470'],
};

/**
 * Builds (when stale) and returns the absolute path of the fake library:
 * `test/fakes/build/libnvidia-ml.so.1` for the default `driver590` profile,
 * `test/fakes/build/<profile>/libnvidia-ml.so.1` otherwise. Throws when gcc
 * fails (its output is in the error).
 */
export function buildFakeNvml(profile: FakeNvmlProfile = 'driver590'): string {
  const outDir =
    profile === 'driver590'
      ? join(here, 'build')
      : join(here, 'build', profile);
  const target = join(outDir, 'libnvidia-ml.so.1');
  if (
    existsSync(target) &&
    statSync(target).mtimeMs >= statSync(source).mtimeMs
  )
    return target;

  mkdirSync(outDir, { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  execFileSync(
    'gcc',
    [
      '-O2',
      '-Wall',
      '-shared',
      '-fPIC',
      ...DEFINES[profile],
      '-o',
      temp,
      source,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  renameSync(temp, target);
  return target;
}
