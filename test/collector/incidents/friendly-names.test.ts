import { expect } from 'chai';
import {
  describeProcess,
  identifyProcess,
} from '../../../collector/src/incidents/friendly-names.ts';

describe('identifyProcess()', () => {
  const cases: [string | null, string | null, string | null][] = [
    ['code-tunnel', null, 'VS Code Remote Tunnel'],
    [
      'code',
      '/usr/bin/code tunnel --accept-server-license-terms',
      'VS Code Remote Tunnel',
    ],
    ['Xorg', '/usr/lib/xorg/Xorg vt1', 'the Xorg display server'],
    ['gnome-shell', null, 'GNOME Shell'],
    [
      'python3',
      'python3 -m ipykernel_launcher -f kernel.json',
      'a Jupyter kernel',
    ],
    [
      'ollama',
      '/usr/bin/ollama runner --model sha256:abc',
      'an Ollama model runner',
    ],
    ['ollama', '/usr/bin/ollama serve', 'Ollama'],
    ['llama-server', null, 'llama.cpp server (llama-server)'],
    ['python', 'python main.py --listen # ComfyUI', 'ComfyUI'],
    ['firefox', null, 'Firefox'],
    ['/usr/bin/chromium', null, 'Chromium'],
    ['trainer', null, null],
  ];
  for (const [name, command, friendly] of cases) {
    it(`names ${name} ${command ?? ''} as ${friendly ?? 'unknown'}`, () => {
      expect(identifyProcess(name, command).friendlyName).to.equal(friendly);
    });
  }

  it('marks display servers as desktop and editors as dev tools', () => {
    expect(identifyProcess('Xorg', null)).to.include({
      isDesktop: true,
      isDevTool: false,
    });
    expect(identifyProcess('code-tunnel', null)).to.include({
      isDevTool: true,
    });
  });
});

describe('describeProcess()', () => {
  it('writes the friendly name, the process name and the pid', () => {
    expect(
      describeProcess({ pid: 41872, name: 'code-tunnel', command: null }),
    ).to.equal('VS Code Remote Tunnel (`code-tunnel`, pid 41872)');
    expect(
      describeProcess({ pid: 77, name: 'trainer', command: null }),
    ).to.equal('`trainer` (pid 77)');
  });
});
