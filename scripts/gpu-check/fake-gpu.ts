/**
 * The stand-in GPU of the check's dry run (`GPUWARDEN_GPU_CHECK_FAKE=1`,
 * docs/gpu-check.md): the fake `libnvidia-ml.so.1` and the fake GPU state
 * file the tests use (test/fakes/), so the whole check runs without a GPU.
 *
 *   fake-gpu.ts setup STATE_FILE          writes an idle 24 GiB GPU, builds
 *                                         the fake NVML, prints its path
 *   fake-gpu.ts register STATE_FILE PID BYTES NAME
 *                                         lists PID on GPU 0 holding BYTES;
 *                                         its memory is free once it dies
 */
import { buildFakeNvml } from '../../test/fakes/build-fake-nvml.ts';
import {
  jasperState,
  readGpuState,
  writeGpuState,
} from '../../test/fakes/gpu-state.ts';

function setup(file: string): void {
  const state = jasperState();
  // Some memory the driver and other users hold, as on a real GPU.
  state.gpus[0]!.baselineBytes = 512 * 2 ** 20;
  writeGpuState(file, state);
  process.stdout.write(`${buildFakeNvml()}\n`);
}

function register(file: string, pid: number, bytes: number, name: string) {
  const state = readGpuState(file);
  state.processes.push({
    gpu: 0,
    pid,
    type: 'compute',
    usedBytes: bytes,
    name,
  });
  writeGpuState(file, state);
}

const [command, file, pid, bytes, name] = process.argv.slice(2);
if (command === 'setup' && file) setup(file);
else if (command === 'register' && file && pid && bytes) {
  register(file, Number(pid), Number(bytes), name ?? 'offender');
} else {
  process.stderr.write(
    'usage: fake-gpu.ts setup STATE_FILE | register STATE_FILE PID BYTES NAME\n',
  );
  process.exitCode = 2;
}
