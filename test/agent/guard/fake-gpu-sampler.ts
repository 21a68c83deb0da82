/**
 * Snapshots of the fake GPU state file (test/fakes/gpu-state.ts) with the
 * `/proc` facts the guard needs (start ticks, uid, exe), read from the
 * real processes the tests spawn. Dead pids hold no memory.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import type { GpuProcess, Snapshot } from '../../../shared/src/snapshot.ts';
import { parseProcStat } from '../../../agent/src/gpu/proc-parse.ts';
import {
  liveProcesses,
  readGpuState,
  usedBytesOf,
} from '../../fakes/gpu-state.ts';
import type { FakeProcess } from '../../fakes/gpu-state.ts';

/** A `sample()` over the state file. */
export function fakeGpuSampler(stateFile: string): () => Promise<Snapshot> {
  return async () => {
    const state = readGpuState(stateFile);
    const live = liveProcesses(state);
    return {
      node: 'jasper',
      takenAt: new Date().toISOString(),
      source: 'nvml',
      driverVersion: state.driverVersion,
      gpus: state.gpus.map((g) => {
        const usedBytes = usedBytesOf(state, g);
        return {
          index: g.index,
          uuid: g.uuid,
          name: g.name,
          pciBusId: g.pciBusId,
          memory: {
            totalBytes: g.totalBytes,
            usedBytes,
            freeBytes: g.totalBytes - g.reservedBytes - usedBytes,
            reservedBytes: g.reservedBytes,
          },
          utilizationPercent: { gpu: g.utilGpu, memory: g.utilMemory },
          temperatureC: g.temperatureC,
          powerWatts: g.powerMw / 1000,
          migEnabled: null,
          processes: live.filter((p) => p.gpu === g.index).flatMap(enrich),
        };
      }),
      problems: [],
    };
  };
}

function enrich(p: FakeProcess): GpuProcess[] {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${p.pid}/stat`, 'utf8'));
    const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    if (!stat) return [];
    return [
      {
        pid: p.pid,
        name: p.name,
        type: p.type === 'both' ? 'compute+graphics' : p.type,
        usedBytes: p.usedBytes,
        user: uid === os.userInfo().uid ? os.userInfo().username : null,
        command: p.name,
        startedAt: null,
        uid,
        ppid: stat.ppid,
        unit: null,
        cgroup: null,
        container: null,
        state: stat.state,
        startTimeTicks: stat.startTimeTicks,
        exe: readlinkSync(`/proc/${p.pid}/exe`),
        oomScoreAdj: Number(
          readFileSync(`/proc/${p.pid}/oom_score_adj`, 'utf8'),
        ),
        resolved: true,
      },
    ];
  } catch {
    // Exited between the state read and /proc: it holds nothing now.
    return [];
  }
}
