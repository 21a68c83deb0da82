/**
 * Puts `--query-compute-apps` rows on GPUs: on those of a `--query-gpu`
 * sample (matched by UUID), or, when the compute-apps CSV is all there is,
 * on GPUs known only by UUID. Pure.
 */
import type { SampleProblem } from '../../../shared/src/snapshot.ts';
import { unknownGpu } from '../../../shared/src/snapshot.ts';
import type { RawGpu, SourceSample } from './source.ts';
import { mergeProcessLists } from './source.ts';
import type { ComputeApps } from './smi-csv.ts';

/**
 * A sample from compute-apps rows alone: one GPU per `gpu_uuid`, in order
 * of appearance (that order is its index); memory, utilization and the
 * rest are `null`, with one problem per GPU saying why.
 */
export function computeAppsToSample(apps: ComputeApps): SourceSample {
  const problems: SampleProblem[] = [...apps.problems];
  const gpus = apps.gpuUuids.map((uuid, index): RawGpu => {
    const first = apps.rows.find((row) => row.gpuUuid === uuid);
    problems.push({
      gpuUuid: uuid,
      kind: 'gpu_fields_unknown',
      message:
        'this GPU is known only from --query-compute-apps: memory, utilization, temperature and power are unknown (for them, put the --query-gpu CSV and the --query-compute-apps CSV, each with its header, in one file; see docs/nvidia-smi.md)',
    });
    return {
      ...unknownGpu(index, uuid),
      name: first?.gpuName ?? null,
      pciBusId: first?.gpuBusId ?? null,
      processes: processesOf(apps, uuid),
    };
  });
  if (gpus.length === 0) {
    problems.push({
      kind: 'no_gpus',
      message:
        'the --query-compute-apps CSV lists no process, so it names no GPU (put the --query-gpu CSV and this one, each with its header, in one file; see docs/nvidia-smi.md)',
    });
  }
  return { source: 'nvidia-smi', driverVersion: null, gpus, problems };
}

/**
 * Adds compute-apps rows to the GPUs of a `--query-gpu` sample. Rows of a
 * GPU the sample lacks are reported, not dropped silently; on a MIG GPU
 * the rows name the parent GPU, so a problem says the slice is unknown.
 */
export function attachComputeApps(
  sample: SourceSample,
  apps: ComputeApps,
): SourceSample {
  const problems: SampleProblem[] = [...sample.problems, ...apps.problems];
  const gpus = sample.gpus.map((gpu) => {
    const processes = processesOf(apps, gpu.uuid);
    if (gpu.migEnabled === true && processes.length > 0) {
      problems.push(migSliceUnknown(gpu.uuid));
    }
    return { ...gpu, processes };
  });

  const known = new Set(gpus.map((g) => g.uuid));
  for (const uuid of apps.gpuUuids.filter((u) => !known.has(u))) {
    problems.push({
      gpuUuid: uuid,
      kind: 'process_gpu_unknown',
      message: `--query-compute-apps lists processes on ${uuid}, which the --query-gpu CSV does not describe; they are left out`,
    });
  }
  return { ...sample, gpus, problems };
}

function processesOf(apps: ComputeApps, uuid: string) {
  const rows = apps.rows.filter((row) => row.gpuUuid === uuid);
  return mergeProcessLists(
    rows.map((row) => row.process),
    [],
  );
}

function migSliceUnknown(gpuUuid: string): SampleProblem {
  return {
    gpuUuid,
    kind: 'mig_slice_unknown',
    message:
      'MIG is enabled but --query-compute-apps names only the parent GPU, so which MIG device each process uses is unknown (use NVML or nvidia-smi -q -x)',
  };
}
