/**
 * Who a GPU process is to the guard: part of the protected workload, never
 * killable by construction, not eligible under the policy, or a candidate.
 * Identification leans on trust anchors the process cannot set for itself
 * (cgroup, systemd unit, executable path, ancestry, uid); a name alone is
 * used only to protect more, never to make something killable.
 */
import { createHash } from 'node:crypto';
import type { GpuProcess } from '../../../shared/src/snapshot.ts';
import type {
  EligibleVictims,
  GuardConfig,
  ProtectMatcher,
} from './guard-config.ts';
import type { AncestorInfo, ExclusionReason } from './types.ts';

/** Display servers and compositors: killing one takes the desktop down. */
const DISPLAY_NAMES = new Set([
  'Xorg',
  'X',
  'Xwayland',
  'gnome-shell',
  'kwin_x11',
  'kwin_wayland',
  'kwin',
  'plasmashell',
  'sway',
  'weston',
  'mutter',
  'Hyprland',
  'gamescope',
  'wayfire',
  'labwc',
  'niri',
  'cosmic-comp',
  'gdm',
  'gdm-x-session',
  'gdm-wayland-session',
  'sddm',
  'lightdm',
  'cinnamon',
  'xfwm4',
  'picom',
  'compiz',
  'dwm.exe',
]);

/** NVIDIA's own services. */
const NVIDIA_NAMES = new Set([
  'nvidia-persistenced',
  'nvidia-cuda-mps-control',
  'nvidia-cuda-mps-server',
  'nv-hostengine',
  'dcgm-exporter',
  'nv-fabricmanager',
  'nvidia-fabricmanager',
  'nvidia-powerd',
  'nvidia-smi',
]);

/** Container runtimes and node agents. */
const RUNTIME_NAMES = new Set([
  'containerd',
  'containerd-shim',
  'containerd-shim-runc-v2',
  'dockerd',
  'kubelet',
  'crio',
]);

/** Places only root can install programs into. */
const SYSTEM_PREFIXES = [
  '/usr/',
  '/bin/',
  '/sbin/',
  '/lib/',
  '/opt/',
  '/snap/',
];

/** What the classifier needs besides the process. */
export interface ClassifyContext {
  config: GuardConfig;
  /** gpuwarden's own pid and its parent's. */
  self: { pid: number; ppid: number };
  /** Pids of every protected process seen in the snapshot (any GPU). */
  protectedPids: ReadonlySet<number>;
  /** Ancestors per pid, nearest first, when `/proc` was asked. */
  ancestry: ReadonlyMap<number, AncestorInfo[]>;
}

/** True when a `*` glob matches the whole text. */
export function globMatches(glob: string, text: string): boolean {
  const pattern = glob
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*');
  return new RegExp(`^${pattern}$`).test(text);
}

/** True when the process itself carries a mark of the protected workload. */
export function matchesProtect(
  p: Pick<AncestorInfo, 'name' | 'exe' | 'unit' | 'cgroup'>,
  matcher: ProtectMatcher,
): boolean {
  if (p.unit && matcher.units.some((u) => globMatches(u, p.unit ?? ''))) {
    return true;
  }
  if (p.cgroup && matcher.cgroups.some((c) => p.cgroup?.includes(c))) {
    return true;
  }
  if (p.exe && matcher.exePrefixes.some((x) => p.exe?.startsWith(x))) {
    return true;
  }
  const unresolved = !p.exe && !p.unit && !p.cgroup;
  return (
    unresolved && p.name !== null && matcher.names.includes(baseName(p.name))
  );
}

/** True when the process belongs to the protected workload. */
export function isProtectedWorkload(
  p: GpuProcess,
  ctx: Pick<ClassifyContext, 'config' | 'protectedPids' | 'ancestry'>,
): boolean {
  const matcher = ctx.config.protect;
  if (matchesProtect(fieldsOf(p), matcher)) return true;
  if (!matcher.ancestry) return false;
  if (p.ppid != null && ctx.protectedPids.has(p.ppid)) return true;
  const ancestors = ctx.ancestry.get(p.pid) ?? [];
  return ancestors.some(
    (a) => ctx.protectedPids.has(a.pid) || matchesProtect(a, matcher),
  );
}

/**
 * The built-in reason a process can never be chosen, whatever the config
 * says; `null` when none applies.
 */
export function neverKillReason(
  p: GpuProcess,
  ctx: ClassifyContext,
): ExclusionReason | null {
  if (!Number.isInteger(p.pid) || p.pid <= 1) return 'invalid_pid';
  if (isProtectedWorkload(p, ctx)) return 'protected_workload';
  if (p.pid === ctx.self.pid) return 'self';
  if (p.pid === ctx.self.ppid) return 'self_parent';
  if (p.pid === 2 || p.ppid === 2) return 'kernel_thread';
  if (isSystemProgram(p, DISPLAY_NAMES)) return 'display_server';
  if (isSystemProgram(p, NVIDIA_NAMES) || isNvidiaUnit(p)) {
    return 'nvidia_service';
  }
  if (isSystemProgram(p, RUNTIME_NAMES)) return 'container_runtime';
  if (p.oomScoreAdj != null && p.oomScoreAdj <= -900) return 'oom_protected';
  return null;
}

/** The policy's reason a process is not a candidate now; `null` if none. */
export function policyReason(
  p: GpuProcess,
  eligible: EligibleVictims,
): ExclusionReason | null {
  if (p.state === 'Z' || p.state === 'X') return 'exited';
  if (p.usedBytes === null) return 'memory_unknown';
  if (p.resolved === false || p.startTimeTicks == null) {
    return 'identity_unreadable';
  }
  if (p.type === 'graphics' && !eligible.graphics) return 'graphics_only';
  if (!isEligibleOwner(p, eligible)) return 'not_eligible';
  if (p.container && eligible.containers !== 'kill') return 'container';
  if (p.usedBytes < eligible.minVictimBytes) return 'too_small';
  return null;
}

/** True when the policy names the process's owner or unit. */
export function isEligibleOwner(
  p: GpuProcess,
  eligible: EligibleVictims,
): boolean {
  const owners = [p.user, p.uid == null ? null : String(p.uid)];
  if (owners.some((o) => o !== null && eligible.users.includes(o))) {
    return true;
  }
  return (
    p.unit != null && eligible.units.some((u) => globMatches(u, p.unit ?? ''))
  );
}

/**
 * What a supervisor's respawn of this process would share with it: its
 * unit (or cgroup, or container) and a hash of its command line.
 */
export function respawnKeyOf(p: GpuProcess): string {
  const owner = p.unit ?? p.container ?? p.cgroup ?? `uid:${p.uid ?? '?'}`;
  const command = p.command ?? p.exe ?? p.name ?? '';
  const hash = createHash('sha256').update(command).digest('hex').slice(0, 12);
  return `${owner}|${hash}`;
}

function isSystemProgram(p: GpuProcess, names: ReadonlySet<string>): boolean {
  if (p.exe) {
    const isSystem = SYSTEM_PREFIXES.some((prefix) =>
      p.exe?.startsWith(prefix),
    );
    return isSystem && names.has(baseName(p.exe));
  }
  return p.name !== null && names.has(baseName(p.name));
}

function isNvidiaUnit(p: GpuProcess): boolean {
  const isSystemUnit = p.cgroup?.startsWith('/system.slice/') ?? false;
  return isSystemUnit && p.unit != null && /^(nvidia-|nv-|dcgm)/.test(p.unit);
}

function fieldsOf(
  p: GpuProcess,
): Pick<AncestorInfo, 'name' | 'exe' | 'unit' | 'cgroup'> {
  return {
    name: p.name,
    exe: p.exe ?? null,
    unit: p.unit ?? null,
    cgroup: p.cgroup ?? null,
  };
}

function baseName(path: string): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(slash + 1);
}
