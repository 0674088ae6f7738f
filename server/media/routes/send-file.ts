import type { Context } from 'hono';
import { Readable } from 'node:stream';
import { MEDIA_HEADERS } from '../service/disposition.ts';
import type { FileStore } from '../service/file-store.ts';

/**
 * Streams stored bytes with the headers every media response carries. Authenticated
 * media is `private`: a shared cache must not hand it to someone without a token.
 */
export async function sendFile(
  c: Context,
  files: FileStore,
  f: { sha256: string; size: number; contentType: string; disposition: string; cache: 'public' | 'private' },
): Promise<Response> {
  const stream = await files.read(f.sha256);
  // A row without its file is the store's fault, not the client's: a 500, logged.
  if (!stream) throw new Error(`media file ${f.sha256} is missing from the store`);
  return c.body(Readable.toWeb(stream) as ReadableStream<Uint8Array>, 200, {
    'Content-Type': f.contentType,
    'Content-Length': String(f.size),
    'Content-Disposition': f.disposition,
    // The bytes behind an mxc URI never change.
    'Cache-Control': `${f.cache}, max-age=86400, immutable`,
    ...MEDIA_HEADERS,
  });
}
