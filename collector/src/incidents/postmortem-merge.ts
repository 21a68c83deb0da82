/**
 * Writing a postmortem again without losing what people wrote in it.
 *
 * Each generated section sits between two HTML comments (invisible when the
 * Markdown is rendered):
 *
 *   <!-- gpuwarden:section root-cause sha=0123456789ab -->
 *   ## Root Cause
 *   ...
 *   <!-- gpuwarden:end root-cause -->
 *
 * `sha` is a hash of the text gpuwarden wrote there. On regeneration a
 * section whose text still has that hash is replaced by the new text; a
 * section whose text differs was edited by a person and is kept as it is
 * (with its old hash, so it stays "edited" next time too). Text outside
 * the markers (a section a person added) stays after the section it
 * followed. Pure.
 */
import { createHash } from 'node:crypto';
import type { PostmortemSection } from './postmortem.ts';

interface ParsedSection {
  kind: 'section';
  id: string;
  sha: string;
  body: string;
}

interface FreeText {
  kind: 'free';
  /** The section this text followed; null when it came first. */
  after: string | null;
  text: string;
}

const BEGIN = /^<!-- gpuwarden:section ([a-z-]+) sha=([0-9a-f]+) -->$/;
const END = /^<!-- gpuwarden:end ([a-z-]+) -->$/;

/** The hash a section's marker carries, of its trimmed text. */
export function sectionHash(markdown: string): string {
  return createHash('sha256')
    .update(markdown.trim())
    .digest('hex')
    .slice(0, 12);
}

/**
 * The postmortem file's text: `sections` wrapped in markers, merged with
 * `previous` (the file as it is now, or null) so edited sections and added
 * text survive.
 */
export function composePostmortem(
  sections: PostmortemSection[],
  previous: string | null,
): string {
  const parsed = previous === null ? [] : parsePostmortem(previous);
  const old = new Map<string, ParsedSection>();
  for (const part of parsed)
    if (part.kind === 'section') old.set(part.id, part);
  const known = new Set(sections.map((s) => s.id));
  const freeAfter = (id: string | null): string[] =>
    parsed
      .filter((p): p is FreeText => p.kind === 'free' && p.after === id)
      .map((p) => p.text);

  const out: string[] = [...freeAfter(null)];
  for (const section of sections) {
    out.push(wrap(section.id, pick(section, old.get(section.id))));
    out.push(...freeAfter(section.id));
  }
  for (const part of parsed) {
    if (part.kind === 'free' && part.after !== null && !known.has(part.after)) {
      out.push(part.text);
    }
  }
  return `${out.join('\n\n')}\n`;
}

/** Which sections of `text` a person edited (their text lost its hash). */
export function editedSections(text: string): string[] {
  return parsePostmortem(text)
    .filter((p): p is ParsedSection => p.kind === 'section')
    .filter((p) => sectionHash(p.body) !== p.sha)
    .map((p) => p.id);
}

function pick(
  section: PostmortemSection,
  previous: ParsedSection | undefined,
): { body: string; sha: string } {
  if (previous && sectionHash(previous.body) !== previous.sha) {
    return { body: previous.body, sha: previous.sha };
  }
  return { body: section.markdown, sha: sectionHash(section.markdown) };
}

function wrap(id: string, part: { body: string; sha: string }): string {
  return [
    `<!-- gpuwarden:section ${id} sha=${part.sha} -->`,
    part.body.trim(),
    `<!-- gpuwarden:end ${id} -->`,
  ].join('\n');
}

function parsePostmortem(text: string): (ParsedSection | FreeText)[] {
  const parts: (ParsedSection | FreeText)[] = [];
  let open: { id: string; sha: string; lines: string[] } | null = null;
  let free: string[] = [];
  let lastId: string | null = null;
  const flushFree = (): void => {
    const joined = free.join('\n').trim();
    if (joined) parts.push({ kind: 'free', after: lastId, text: joined });
    free = [];
  };

  for (const line of text.split('\n')) {
    const begin = BEGIN.exec(line.trim());
    const end = END.exec(line.trim());
    if (!open && begin) {
      flushFree();
      open = { id: begin[1]!, sha: begin[2]!, lines: [] };
    } else if (open && end && end[1] === open.id) {
      const body = open.lines.join('\n');
      parts.push({ kind: 'section', id: open.id, sha: open.sha, body });
      lastId = open.id;
      open = null;
    } else if (open) {
      open.lines.push(line);
    } else {
      free.push(line);
    }
  }
  // A section whose end marker was deleted keeps its text as free text.
  if (open) free.push(...open.lines);
  flushFree();
  return parts;
}
