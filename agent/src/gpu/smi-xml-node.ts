/**
 * Walking the object tree fast-xml-parser makes of `nvidia-smi -q -x`:
 * children by name, lists that may hold one element, and leaf text with
 * the five XML entities and character references decoded by hand (entity
 * processing in the parser stays off). Pure.
 */

/** A parsed element: child elements by name, `#text`, `@_` attributes. */
export type XmlNode = { [name: string]: XmlValue };

/** What a child can be: text, an element, or a list of either. */
export type XmlValue = string | XmlNode | XmlValue[];

/** The first child element called `name`, if any. */
export function childOf(node: XmlValue, name: string): XmlValue | undefined {
  if (typeof node !== 'object' || Array.isArray(node)) return undefined;
  const child = node[name];
  return Array.isArray(child) ? child[0] : child;
}

/** Every child element called `name` (none, one or many). */
export function listOf(node: XmlValue | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node !== 'object' || Array.isArray(node)) {
    return [];
  }
  const child = node[name];
  const all = Array.isArray(child) ? child : child === undefined ? [] : [child];
  return all.map((item) => (typeof item === 'object' ? item : {})) as XmlNode[];
}

/**
 * The text at `path` (element names, or `@_name` for an attribute), trimmed
 * and entity-decoded; `undefined` when an element on the way is missing.
 */
export function textAt(
  node: XmlValue | undefined,
  path: readonly string[],
): string | undefined {
  let here: XmlValue | undefined = node;
  for (const name of path) {
    if (here === undefined) return undefined;
    here = childOf(here, name);
  }
  if (here === undefined) return undefined;
  if (typeof here === 'string') return decodeEntities(here.trim());
  const inner = childOf(here, '#text');
  return typeof inner === 'string' ? decodeEntities(inner.trim()) : '';
}

const NAMED: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** Decodes `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#…;` only. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code =
        ref[1] === 'x' || ref[1] === 'X'
          ? parseInt(ref.slice(2), 16)
          : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff
        ? String.fromCodePoint(code)
        : '\uFFFD';
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}
