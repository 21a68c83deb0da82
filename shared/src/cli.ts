/**
 * The small command-line frame both programs share: subcommands, `--help`,
 * `--version`, and one-line failures with exit codes 0 ok, 1 runtime
 * failure, 2 bad usage or bad config (DESIGN §3.1).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { UsageError, exitCodeFor } from './errors.ts';

/** Where a command writes; injected so tests capture output. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** One subcommand. */
export interface CliCommand {
  /** One line for the command list, e.g. `one snapshot, table or JSON`. */
  summary: string;
  /** Usage line(s) shown by `<program> <command> --help`. */
  usage: string;
  /** Runs the command with its arguments; resolves to the exit code. */
  run: (args: string[], io: CliIo) => Promise<number>;
}

/** Options shared by {@link runCli}. */
export interface CliOptions {
  program: string;
  version: string;
  description: string;
  commands: Record<string, CliCommand>;
}

/** The real standard output and error. */
export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** Dispatches `argv` to a subcommand and turns failures into exit codes. */
export async function runCli(
  options: CliOptions,
  argv: string[],
  io: CliIo = processIo,
): Promise<number> {
  const [name, ...rest] = argv;
  if (
    name === undefined ||
    name === '--help' ||
    name === '-h' ||
    name === 'help'
  ) {
    io.stdout(renderHelp(options));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`${options.version}\n`);
    return 0;
  }
  const command = options.commands[name];
  if (!command) {
    io.stderr(
      `${options.program}: unknown command "${name}"; run ${options.program} --help for the list\n`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    io.stderr(`${options.program} ${name}: ${oneLine(error)}\n`);
    return exitCodeFor(error);
  }
}

/**
 * Parses a command's flags; unknown flags, missing values and a flag given
 * more than once (unless declared `multiple: true`) become a
 * {@link UsageError} that names the flag. A repeat is refused because
 * only the last would count, silently; `repeatHints` adds, per flag, what
 * to do instead (shown in parentheses).
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  flags: T,
  allowPositionals = false,
  repeatHints: Partial<Record<keyof T, string>> = {},
) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: flags,
      allowPositionals,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message.split('\n')[0]}; see --help`,
    );
  }
  const repeated = firstRepeat(parsed.tokens, flags);
  if (repeated !== null) {
    const hint = repeatHints[repeated];
    throw new UsageError(
      `--${repeated} given twice; give it once${hint ? ` (${hint})` : ''}`,
    );
  }
  const { values, positionals } = parsed;
  return { values, positionals };
}

/** The first flag given twice that may be given only once, or null. */
function firstRepeat(
  tokens: readonly { kind: string; name?: string }[],
  flags: NonNullable<ParseArgsConfig['options']>,
): string | null {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    if (flags[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) return token.name;
    seen.add(token.name);
  }
  return null;
}

function renderHelp(options: CliOptions): string {
  const width = Math.max(...Object.keys(options.commands).map((n) => n.length));
  const lines = Object.entries(options.commands).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return [
    `${options.program} ${options.version}: ${options.description}`,
    '',
    `usage: ${options.program} <command> [options]`,
    '',
    'commands:',
    ...lines,
    '',
    `Run ${options.program} <command> --help for a command's options.`,
    '',
  ].join('\n');
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? 'failed';
}
