/** Longest value kept from a page (Synapse trims descriptions to 500 characters too). */
const MAX_VALUE = 500;

/**
 * The Open Graph properties of an HTML page, with `<title>` and the description meta
 * tag as fallbacks. `og:image` is left out: the spec wants an mxc URI there, and this
 * server does not fetch and store preview images yet.
 */
export function parseOpenGraph(html: string): Record<string, string> {
  const og: Record<string, string> = {};
  let description: string | undefined;
  for (const tag of html.matchAll(/<meta\b[^>]*>/gi)) {
    const attrs = attributes(tag[0]);
    const key = attrs.property ?? attrs.name;
    const content = attrs.content;
    if (key === undefined || content === undefined) continue;
    const k = key.toLowerCase();
    if (k.startsWith('og:') && !k.startsWith('og:image') && !(k in og)) og[k] = trim(content);
    if (k === 'description') description ??= trim(content);
  }
  if (og['og:title'] === undefined) {
    const title = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
    if (title !== undefined && title.trim() !== '') og['og:title'] = trim(title);
  }
  if (og['og:description'] === undefined && description !== undefined) og['og:description'] = description;
  return og;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
    out[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED[e.toLowerCase()] ?? whole;
  });
}

function trim(s: string): string {
  const clean = decodeEntities(s).replace(/\s+/g, ' ').trim();
  return clean.length > MAX_VALUE ? `${clean.slice(0, MAX_VALUE - 1)}…` : clean;
}
