/**
 * Names people know for the GPU consumers they meet on inference hosts, so
 * a root cause says "VS Code Remote Tunnel" rather than only `code-tunnel`.
 * Matching looks at the short process name and, where the name alone is
 * ambiguous (`python`, `node`), at the command line.
 */

/** What a process is, as far as its name and command line tell. */
export interface ProcessIdentity {
  /** The name people know, e.g. `VS Code Remote Tunnel`; null if unknown. */
  friendlyName: string | null;
  /** Tools people run interactively (editors, notebooks, browsers). */
  isDevTool: boolean;
  /** Display servers and desktop shells: never safe to kill. */
  isDesktop: boolean;
  /** The protected inference workload (Ollama and its runners). */
  isInferenceServer: boolean;
}

interface Rule {
  /** Matches the base name of the process (lower case). */
  name?: RegExp;
  /** Matches the command line (as given). */
  command?: RegExp;
  friendlyName: string;
  kind: 'dev' | 'desktop' | 'inference' | 'other';
}

// Order matters: the first rule whose name and command both match wins.
const RULES: readonly Rule[] = [
  { name: /^code-tunnel$/, friendlyName: 'VS Code Remote Tunnel', kind: 'dev' },
  {
    name: /^code$/,
    command: /--type=/,
    friendlyName: 'VS Code',
    kind: 'dev',
  },
  { name: /^code$/, friendlyName: 'VS Code Remote Tunnel', kind: 'dev' },
  {
    name: /^node$/,
    command: /\.vscode-server/,
    friendlyName: 'VS Code Server',
    kind: 'dev',
  },
  {
    name: /^(xorg|x)$/,
    friendlyName: 'the Xorg display server',
    kind: 'desktop',
  },
  { name: /^xwayland$/, friendlyName: 'Xwayland', kind: 'desktop' },
  { name: /^gnome-shell$/, friendlyName: 'GNOME Shell', kind: 'desktop' },
  {
    name: /^(kwin_x11|kwin_wayland|plasmashell)$/,
    friendlyName: 'KDE Plasma',
    kind: 'desktop',
  },
  {
    name: /^ollama(_llama_server)?$/,
    command: /\brunner\b/,
    friendlyName: 'an Ollama model runner',
    kind: 'inference',
  },
  {
    name: /^ollama_llama_server$/,
    friendlyName: 'an Ollama model runner',
    kind: 'inference',
  },
  { name: /^ollama$/, friendlyName: 'Ollama', kind: 'inference' },
  {
    name: /^llama-server$/,
    friendlyName: 'llama.cpp server (llama-server)',
    kind: 'other',
  },
  {
    name: /^python[\d.]*$/,
    command: /ipykernel_launcher|ipykernel/,
    friendlyName: 'a Jupyter kernel',
    kind: 'dev',
  },
  {
    name: /^(python[\d.]*|jupyter.*)$/,
    command: /jupyter-(lab|notebook)|jupyter (lab|notebook)/,
    friendlyName: 'Jupyter',
    kind: 'dev',
  },
  {
    name: /^python[\d.]*$/,
    command: /comfyui/i,
    friendlyName: 'ComfyUI',
    kind: 'other',
  },
  {
    name: /^python[\d.]*$/,
    command: /vllm/,
    friendlyName: 'vLLM',
    kind: 'other',
  },
  {
    name: /^(chrome|google-chrome)$/,
    friendlyName: 'Google Chrome',
    kind: 'dev',
  },
  { name: /^chromium(-browser)?$/, friendlyName: 'Chromium', kind: 'dev' },
  { name: /^firefox(-bin|-esr)?$/, friendlyName: 'Firefox', kind: 'dev' },
  {
    name: /^(msedge|microsoft-edge)$/,
    friendlyName: 'Microsoft Edge',
    kind: 'dev',
  },
  { name: /^blender$/, friendlyName: 'Blender', kind: 'dev' },
  { name: /^obs$/, friendlyName: 'OBS Studio', kind: 'dev' },
  { name: /^steam(webhelper)?$/, friendlyName: 'Steam', kind: 'dev' },
];

/**
 * What a process is, from its short name (`/proc/<pid>/comm` or the
 * driver's name, possibly a path) and its command line; both may be null.
 */
export function identifyProcess(
  name: string | null,
  command: string | null,
): ProcessIdentity {
  const base = baseName(name ?? firstWord(command) ?? '').toLowerCase();
  const rule = RULES.find(
    (r) =>
      (r.name === undefined || r.name.test(base)) &&
      (r.command === undefined ||
        (command !== null && r.command.test(command))),
  );
  return {
    friendlyName: rule?.friendlyName ?? null,
    isDevTool: rule?.kind === 'dev',
    isDesktop: rule?.kind === 'desktop',
    isInferenceServer: rule?.kind === 'inference',
  };
}

/**
 * How a root cause names a process: `VS Code Remote Tunnel (`code-tunnel`,
 * pid 41872)`, or `` `trainer` (pid 77) `` when it has no friendly name.
 */
export function describeProcess(process: {
  pid: number;
  name: string | null;
  command: string | null;
}): string {
  const identity = identifyProcess(process.name, process.command);
  const shown = baseName(process.name ?? firstWord(process.command) ?? '');
  const code = shown ? `\`${shown}\`, ` : '';
  if (identity.friendlyName === null) {
    return shown
      ? `\`${shown}\` (pid ${process.pid})`
      : `an unnamed process (pid ${process.pid})`;
  }
  return `${identity.friendlyName} (${code}pid ${process.pid})`;
}

function baseName(name: string): string {
  const parts = name.trim().split('/');
  return parts.at(-1) ?? '';
}

function firstWord(command: string | null): string | null {
  const word = command?.trim().split(/\s+/)[0];
  return word ? word : null;
}
