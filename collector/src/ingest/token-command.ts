/**
 * `gpuwarden-collector token create --node NAME [--tokens-file F]
 * [--out FILE]`: makes a new agent token, appends its SHA-256 to the
 * collector's tokens file and shows the token once (or writes it to FILE,
 * mode 0600, for the agent's `collector.tokenFile`).
 */
import {
  appendFile,
  chmod,
  mkdir,
  readFile,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import type { CliCommand } from '../../../shared/src/cli.ts';
import { createSystemClock } from '../../../shared/src/clock.ts';
import { parseFlags } from '../../../shared/src/cli.ts';
import { UsageError } from '../../../shared/src/errors.ts';
import { NODE_NAME_PATTERN } from '../../../shared/src/proto/validate-message.ts';
import {
  createAgentToken,
  formatTokenLine,
  hashToken,
  parseTokensFile,
} from './agent-tokens.ts';

/** Default tokens file: the collector's default data dir. */
export const DEFAULT_TOKENS_FILE = 'data/agent-tokens';

/** File access the command needs. */
export interface TokenCommandDeps {
  readText(file: string): Promise<string | null>;
  append(file: string, text: string): Promise<void>;
  /** Writes a file readable by its owner only (0600). */
  writeSecret(file: string, text: string): Promise<void>;
  nowMs(): number;
}

/** The `token` command. */
export function tokenCommand(
  deps: TokenCommandDeps = nodeTokenCommandDeps(),
): CliCommand {
  return {
    summary: 'create an agent token (prints it once, stores its hash)',
    usage:
      'gpuwarden-collector token create --node NAME [--tokens-file F] [--out FILE]',
    run: async (args, io) => {
      const { values, positionals } = parseFlags(
        args,
        {
          node: { type: 'string' },
          'tokens-file': { type: 'string' },
          out: { type: 'string' },
        },
        true,
      );
      if (positionals[0] !== 'create' || positionals.length !== 1) {
        throw new UsageError('token needs the subcommand create; see --help');
      }
      const node = values.node;
      if (node === undefined || !NODE_NAME_PATTERN.test(node)) {
        throw new UsageError(
          '--node must be a host-like name (letters, digits, . _ -), e.g. --node jasper',
        );
      }
      const tokensFile = values['tokens-file'] ?? DEFAULT_TOKENS_FILE;
      const existing = await deps.readText(tokensFile);
      if (existing !== null) parseTokensFile(existing, tokensFile);

      const token = createAgentToken(node);
      const createdAt = new Date(deps.nowMs()).toISOString();
      await deps.append(
        tokensFile,
        formatTokenLine({ node, tokenSha256: hashToken(token) }, createdAt),
      );
      if (values.out !== undefined) {
        await deps.writeSecret(values.out, `${token}\n`);
        io.stdout(
          `wrote the token for node ${node} to ${values.out} (mode 0600); its hash is in ${tokensFile}\n`,
        );
      } else {
        io.stdout(`${token}\n`);
        io.stderr(
          `token for node ${node} above; it is shown only this once. Put it in the agent's collector.tokenFile; its hash is in ${tokensFile}\n`,
        );
      }
      return 0;
    },
  };
}

/** The real file system behind the command. */
export function nodeTokenCommandDeps(): TokenCommandDeps {
  return {
    readText: (file) => readFile(file, 'utf8').catch(() => null),
    append: async (file, text) => {
      await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      await appendFile(file, text, { mode: 0o600 });
    },
    writeSecret: async (file, text) => {
      await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      await writeFile(file, text, { mode: 0o600 });
      await chmod(file, 0o600);
    },
    nowMs: () => createSystemClock().nowMs(),
  };
}
