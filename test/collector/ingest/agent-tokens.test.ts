import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  createAgentToken,
  hashToken,
  parseTokensFile,
  TokenRegistry,
} from '../../../collector/src/ingest/agent-tokens.ts';
import {
  nodeTokenCommandDeps,
  tokenCommand,
} from '../../../collector/src/ingest/token-command.ts';
import { runCli } from '../../../shared/src/cli.ts';

describe('agent tokens', () => {
  it('makes gw_<node>_<43 base64url characters> tokens', () => {
    expect(createAgentToken('jasper')).to.match(
      /^gw_jasper_[A-Za-z0-9_-]{43}$/,
    );
  });

  it('identifies the node of a known token and nothing else', () => {
    const token = createAgentToken('jasper');
    const registry = new TokenRegistry([
      { node: 'jasper', tokenSha256: hashToken(token) },
    ]);

    expect(registry.check(`Bearer ${token}`)).to.deep.equal({
      ok: true,
      node: 'jasper',
    });
    expect(registry.check(`Bearer ${token}x`)).to.deep.equal({
      ok: false,
      reason: 'unknown',
    });
    expect(registry.check(null)).to.deep.equal({
      ok: false,
      reason: 'missing',
    });
    expect(registry.check(token)).to.deep.equal({
      ok: false,
      reason: 'malformed',
    });
  });

  it('reads a tokens file with comments and names a bad line', () => {
    const hash = 'a'.repeat(64);

    expect(
      parseTokensFile(`# agents\njasper ${hash}  # created today\n\n`, 'f'),
    ).to.deep.equal([{ node: 'jasper', tokenSha256: hash }]);
    expect(() =>
      parseTokensFile(`jasper ${hash}\nonyx short\n`, 'tokens'),
    ).to.throw(/tokens: line 2 must be "<node> <sha256 hex of the token>"/);
  });
});

describe('gpuwarden-collector token create', () => {
  async function run(args: string[]) {
    const out: string[] = [];
    const errors: string[] = [];
    const code = await runCli(
      {
        program: 'gpuwarden-collector',
        version: '0',
        description: '',
        commands: { token: tokenCommand(nodeTokenCommandDeps()) },
      },
      ['token', ...args],
      { stdout: (t) => out.push(t), stderr: (t) => errors.push(t) },
    );
    return { code, out: out.join(''), err: errors.join('') };
  }

  it('prints the token once and appends its hash to the tokens file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-token-'));
    const tokensFile = path.join(dir, 'agent-tokens');

    const result = await run([
      'create',
      '--node',
      'jasper',
      '--tokens-file',
      tokensFile,
    ]);

    const token = result.out.trim();
    expect(result.code).to.equal(0);
    expect(
      parseTokensFile(readFileSync(tokensFile, 'utf8'), tokensFile),
    ).to.deep.equal([{ node: 'jasper', tokenSha256: hashToken(token) }]);
    expect(result.err).to.match(/shown only this once/);
  });

  it('writes the token to a 0600 file with --out', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-token-'));
    const out = path.join(dir, 'agent.token');

    const result = await run([
      'create',
      '--node',
      'onyx',
      '--tokens-file',
      path.join(dir, 't'),
      '--out',
      out,
    ]);

    expect(result.code).to.equal(0);
    expect(readFileSync(out, 'utf8')).to.match(/^gw_onyx_/);
    expect(statSync(out).mode & 0o777).to.equal(0o600);
    expect(result.out).to.not.include(readFileSync(out, 'utf8').trim());
  });

  it('refuses a bad node name with exit code 2', async () => {
    const result = await run(['create', '--node', 'bad name']);

    expect(result.code).to.equal(2);
    expect(result.err).to.match(/--node must be a host-like name/);
  });
});
