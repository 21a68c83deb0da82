/**
 * Small wording helpers shared by the root cause, the impact and the
 * postmortem, so every place names burn rates, workloads and nodes alike.
 */
import { formatBytes } from '../../../shared/src/units.ts';
import type { GpuDigest } from './evidence.ts';

/** A burn rate as the reference writes it: `3.2x`. */
export function burn(burnRate: number): string {
  return `${burnRate.toFixed(1)}x`;
}

/** The workload an SLO is about, for people: `ollama_availability` → `Ollama`. */
export function workloadLabel(sloName: string): string {
  const head = workloadKey(sloName);
  return head ? head[0]!.toUpperCase() + head.slice(1) : sloName;
}

/** The workload key an SLO is about: `ollama_availability` → `ollama`. */
export function workloadKey(sloName: string): string {
  return (sloName.split('_')[0] ?? sloName).toLowerCase();
}

/** A node name as a title shows it: `jasper` → `Jasper`, `gpu-03` as is. */
export function nodeLabel(node: string): string {
  return /^[a-z]+$/.test(node) ? node[0]!.toUpperCase() + node.slice(1) : node;
}

/** A GPU as a sentence names it: `GPU 0 (NVIDIA GeForce RTX 4090, 24.0 GiB)`. */
export function gpuName(
  gpu: GpuDigest | null,
  totalBytes: number | null = null,
): string {
  if (!gpu) return 'the GPU';
  const facts = [gpu.name, totalBytes === null ? null : formatBytes(totalBytes)]
    .filter((f) => f !== null)
    .join(', ');
  return facts ? `GPU ${gpu.index} (${facts})` : `GPU ${gpu.index}`;
}
