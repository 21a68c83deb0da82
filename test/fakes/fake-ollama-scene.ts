/**
 * A small stage for tests with the fake Ollama: a temporary GPU state file
 * holding the simulated Jasper (RTX 4090, 24 GiB) with Ollama's runner
 * registered as this test process, and real `sleep` processes as the
 * offenders, so killing one really frees its VRAM.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jasperState, readGpuState, writeGpuState } from './gpu-state.ts';

/** Bytes of the served model in the scenes: qwen2.5:32b as `/api/ps` shows it. */
export const SCENE_MODEL_BYTES = 21_834_240_000;

/** A temporary state file and the processes started for it. */
export interface FakeOllamaScene {
  dir: string;
  stateFile: string;
  logFile: string;
  /** Starts a real process holding `usedBytes` on GPU 0; its pid. */
  addOffender(usedBytes: number, name?: string): number;
  /** Kills an offender started here (SIGKILL) and waits for its exit. */
  killOffender(pid: number): Promise<void>;
  /** Kills what is left and removes the directory. */
  cleanup(): void;
}

/** Creates the stage; call `cleanup()` in `after`. */
export function createFakeOllamaScene(): FakeOllamaScene {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpuwarden-ollama-'));
  const stateFile = path.join(dir, 'gpu-state');
  const state = jasperState();
  state.processes.push({
    gpu: 0,
    pid: process.pid,
    type: 'compute',
    usedBytes: SCENE_MODEL_BYTES,
    name: '/usr/local/bin/ollama',
  });
  writeGpuState(stateFile, state);
  const children = new Map<number, ChildProcess>();

  return {
    dir,
    stateFile,
    logFile: path.join(dir, 'ollama.log'),
    addOffender: (usedBytes, name = '/usr/bin/code-tunnel') => {
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      const pid = child.pid ?? 0;
      children.set(pid, child);
      const next = readGpuState(stateFile);
      next.processes.push({ gpu: 0, pid, type: 'compute', usedBytes, name });
      writeGpuState(stateFile, next);
      return pid;
    },
    killOffender: async (pid) => {
      const child = children.get(pid);
      if (!child || child.exitCode !== null || child.signalCode !== null)
        return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      children.delete(pid);
    },
    cleanup: () => {
      for (const child of children.values()) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
