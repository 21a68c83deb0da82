/**
 * Host facts for the hello message, gathered once at start with
 * systeminformation (it is too slow for every sample, and none of this
 * changes while the agent runs). Each fact is `null` when unknown.
 */
import si from 'systeminformation';
import type { Hello } from '../../../shared/src/messages.ts';

/** Reads OS, kernel, CPU model and memory size; never throws. */
export async function gatherHostFacts(): Promise<Hello['host']> {
  const [osInfo, cpu, mem] = await Promise.all([
    si.osInfo().catch(() => null),
    si.cpu().catch(() => null),
    si.mem().catch(() => null),
  ]);
  const os = osInfo
    ? [osInfo.distro, osInfo.release].filter(Boolean).join(' ') || null
    : null;
  const cpuName = cpu
    ? [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ') || null
    : null;
  return {
    os,
    kernel: osInfo?.kernel || null,
    cpu: cpuName,
    memoryBytes: mem && mem.total > 0 ? mem.total : null,
  };
}
