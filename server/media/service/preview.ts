import { LRUCache } from 'lru-cache';
import { invalidParam } from '../../http/matrix-error.ts';
import { parseOpenGraph } from './open-graph.ts';
import { fetchPublic } from './safe-fetch.ts';

/** Previews are cached per process for an hour: a link posted in a busy room is fetched once, not once per reader. */
const CACHE_TTL_MS = 3_600_000;

/** GET /preview_url: the Open Graph data of a public web page. */
export function createUrlPreviewer(limits: { max_bytes: number; timeout_ms: number }) {
  const cache = new LRUCache<string, Record<string, string>>({ max: 1000, ttl: CACHE_TTL_MS });
  return {
    async preview(url: string): Promise<Record<string, string>> {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw invalidParam('url is not a valid URL');
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidParam('Only http and https URLs can be previewed');
      parsed.hash = '';
      const key = parsed.toString();
      const hit = cache.get(key);
      if (hit) return hit;
      const page = await fetchPublic(key, { maxBytes: limits.max_bytes, timeoutMs: limits.timeout_ms });
      const type = page.contentType.toLowerCase();
      let og: Record<string, string> = {};
      if (type.startsWith('text/html') || type.startsWith('application/xhtml+xml')) {
        const charset = /charset=["']?([\w-]+)/.exec(type)?.[1] ?? 'utf-8';
        let decoder: TextDecoder;
        try {
          decoder = new TextDecoder(charset);
        } catch {
          decoder = new TextDecoder('utf-8');
        }
        og = parseOpenGraph(decoder.decode(page.body));
      }
      cache.set(key, og);
      return og;
    },
  };
}

export type UrlPreviewer = ReturnType<typeof createUrlPreviewer>;
