/**
 * Configuration loading: YAML (or JSON) text into a plain object, and a
 * reader that validates field by field. Every error names the field, the
 * rule and the value that came; unknown keys are errors too, since a typo
 * in a safety setting (a guard mode, a reservation) must not pass silently.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import path from 'node:path';
import { ConfigError, GpuwardenError } from './errors.ts';
import type { Fs } from './fs.ts';
import { parseBytes, parseDuration } from './units.ts';

/**
 * Parses YAML or JSON text; throws a `CONFIG_INVALID` {@link GpuwardenError}
 * on bad syntax, e.g. `config file x.yaml is not valid YAML at line 3,
 * column 4: Nested mappings are not allowed in compact mappings; fix the
 * syntax`.
 */
export function parseConfigText(text: string, source: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true }) ?? {};
  } catch (error) {
    const pos =
      error instanceof YAMLParseError && error.linePos
        ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`
        : '';
    const first = ((error as Error).message.split('\n')[0] ?? '')
      .replace(/ at line \d+, column \d+:?$/, '')
      .trim();
    throw new GpuwardenError(
      'CONFIG_INVALID',
      `config file ${source} is not valid YAML${pos}: ${first || 'unreadable'}; fix the syntax`,
      { cause: error },
    );
  }
}

/** A config file read and parsed, with the folder its paths are relative to. */
export interface ConfigFile {
  data: unknown;
  /** The file's path as given, for messages. */
  source: string;
  /** The file's folder: relative paths inside it are resolved from here. */
  baseDir: string;
}

/**
 * Reads and parses a config file; throws a `CONFIG_INVALID`
 * {@link GpuwardenError} naming it, e.g. `cannot read config file
 * /tmp/nope.yaml: no such file; check the --config path`.
 */
export async function readConfigFile(
  file: string,
  fs: Fs,
): Promise<ConfigFile> {
  let text: string;
  try {
    text = await fs.readText(file);
  } catch (error) {
    throw new GpuwardenError(
      'CONFIG_INVALID',
      `cannot read config file ${file}: ${readFailure(error)}; check the --config path`,
      { cause: error },
    );
  }
  return {
    data: parseConfigText(text, file),
    source: file,
    baseDir: path.dirname(path.resolve(file)),
  };
}

/** Why a file could not be read, in words; an unfamiliar errno as its code. */
function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
  };
  if (typeof code !== 'string') return 'unreadable';
  return words[code] ?? `unreadable (${code})`;
}

/**
 * A validating view of one object in the config. Each getter consumes a
 * key; {@link ConfigNode.done} rejects keys nobody asked for.
 */
export class ConfigNode {
  private readonly data: Record<string, unknown>;
  private readonly seen = new Set<string>();

  constructor(
    data: unknown,
    private readonly path: string,
    private readonly source?: string,
  ) {
    if (data === undefined || data === null) {
      this.data = {};
    } else if (typeof data === 'object' && !Array.isArray(data)) {
      this.data = data as Record<string, unknown>;
    } else {
      throw new ConfigError(
        path || '(root)',
        'must be a mapping',
        data,
        source,
      );
    }
  }

  /** The dotted name of `key` under this node, for messages. */
  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Throws a {@link ConfigError} for `key`. */
  fail(key: string, rule: string, got: unknown): never {
    throw new ConfigError(this.field(key), rule, got, this.source);
  }

  /** True when the key is present (and not null). */
  has(key: string): boolean {
    return this.data[key] !== undefined && this.data[key] !== null;
  }

  /** The raw value, consumed without checks. */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.data[key];
  }

  /** A nested mapping (empty when absent). */
  child(key: string): ConfigNode {
    return new ConfigNode(this.raw(key), this.field(key), this.source);
  }

  /** A list of nested mappings (empty when absent). */
  children(key: string): ConfigNode[] {
    const value = this.raw(key);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(key, 'must be a list', value);
    return value.map(
      (item, i) =>
        new ConfigNode(item, `${this.field(key)}[${i}]`, this.source),
    );
  }

  string(key: string, fallback?: string): string {
    const value = this.raw(key) ?? fallback;
    if (typeof value !== 'string' || value.length === 0) {
      this.fail(key, 'must be a non-empty string', value);
    }
    return value;
  }

  optionalString(key: string): string | null {
    return this.has(key) ? this.string(key) : (this.raw(key), null);
  }

  stringList(key: string, fallback: readonly string[] = []): string[] {
    const value = this.raw(key) ?? fallback;
    const isList =
      Array.isArray(value) && value.every((v) => typeof v === 'string');
    if (!isList) this.fail(key, 'must be a list of strings', value);
    return [...(value as string[])];
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const value = this.raw(key) ?? fallback;
    if (!allowed.includes(value as T)) {
      this.fail(key, `must be one of ${allowed.join(', ')}`, value);
    }
    return value as T;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const value = this.raw(key) ?? fallback;
    if (typeof value !== 'boolean')
      this.fail(key, 'must be true or false', value);
    return value;
  }

  number(
    key: string,
    fallback?: number,
    range: { min?: number; max?: number; integer?: boolean } = {},
  ): number {
    const value = this.raw(key) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(key, 'must be a number', value);
    }
    if (range.integer && !Number.isInteger(value)) {
      this.fail(key, 'must be a whole number', value);
    }
    if (range.min !== undefined && value < range.min) {
      this.fail(key, `must be at least ${range.min}`, value);
    }
    if (range.max !== undefined && value > range.max) {
      this.fail(key, `must be at most ${range.max}`, value);
    }
    return value;
  }

  /** A duration (`10s`, `5m`, `1h`) in milliseconds. */
  durationMs(
    key: string,
    fallback?: string,
    range: { minMs?: number } = {},
  ): number {
    const value = this.raw(key) ?? fallback;
    const parsed =
      typeof value === 'string' || typeof value === 'number'
        ? parseDuration(value)
        : null;
    if (parsed === null) {
      this.fail(key, 'must be a duration like 500ms, 10s, 5m or 1h', value);
    }
    if (range.minMs !== undefined && parsed < range.minMs) {
      this.fail(key, `must be at least ${range.minMs}ms`, value);
    }
    return parsed;
  }

  /** A size (`20GiB`, `512MiB`, a byte count) in bytes. */
  bytes(key: string, fallback?: string | number): number {
    const value = this.raw(key) ?? fallback;
    const parsed =
      typeof value === 'string' || typeof value === 'number'
        ? parseBytes(value)
        : null;
    if (parsed === null) {
      this.fail(
        key,
        'must be a size like 20GiB, 512MiB or a byte count',
        value,
      );
    }
    return parsed;
  }

  /** Rejects keys that no getter consumed (typos, misplaced settings). */
  done(): void {
    for (const key of Object.keys(this.data)) {
      if (!this.seen.has(key)) {
        this.fail(
          key,
          'is not a known setting; check its spelling and place',
          this.data[key],
        );
      }
    }
  }
}
