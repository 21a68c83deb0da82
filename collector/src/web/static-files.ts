/**
 * The dashboard's files, read once at start from `static/` beside this
 * module. There is no build step: the page is plain HTML, CSS and a module
 * script.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** A file ready to serve. */
export interface StaticFile {
  contentType: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Loads every file in `static/` keyed by URL path (`/` is index.html). */
export function loadStaticFiles(): Map<string, StaticFile> {
  const dir = new URL('./static/', import.meta.url);
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const contentType = TYPES[ext];
    if (!contentType) continue;
    const file = { contentType, body: readFileSync(new URL(name, dir)) };
    files.set(`/${name}`, file);
    if (name === 'index.html') files.set('/', file);
  }
  return files;
}
