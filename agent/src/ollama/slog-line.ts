/**
 * Go `slog` text lines as Ollama writes them to stderr:
 * `time=2026-03-02T14:01:10.118+01:00 level=INFO source=server.go:392
 * msg="offload to cuda" layers.model=65 memory.available="[20.6 GiB]"`.
 */

/** The fields of one slog line; values unquoted. */
export type SlogFields = Record<string, string>;

// key=value or key="quoted \"value\""; keys may hold dots.
const PAIR = /([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)/g;

/**
 * Parses a slog text line into its fields, or `null` when the line has no
 * `time=` and `msg=` (it is not a slog line). Text before `time=` (a
 * journald prefix) is ignored.
 */
export function parseSlogLine(line: string): SlogFields | null {
  const start = line.indexOf('time=');
  if (start === -1) return null;
  const fields: SlogFields = {};
  for (const match of line.slice(start).matchAll(PAIR)) {
    fields[match[1] ?? ''] = unquote(match[2] ?? '');
  }
  return fields.time !== undefined && fields.msg !== undefined ? fields : null;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    return value.slice(1, -1);
  }
}
