import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/hono-env.ts';
import { invalidParam } from '../../http/matrix-error.ts';
import { HEADER_SAFE } from '../service/disposition.ts';
import type { IncomingUpload, MediaService } from '../service/media.ts';

/**
 * Uploads. Their bodies are exempt from the JSON body limit (server/app.ts): the media
 * service streams them to disk under the media limit instead.
 */
export function uploadRoutes(app: Hono<AppEnv>, { auth, media }: { auth: MiddlewareHandler<AppEnv>; media: MediaService }): void {
  app.post('/_matrix/media/v3/upload', auth, async (c) => {
    const contentUri = await media.upload(c.get('requester').userId, incoming(c));
    return c.json({ content_uri: contentUri });
  });

  app.post('/_matrix/media/v1/create', auth, async (c) => c.json(await media.create(c.get('requester').userId)));

  app.put('/_matrix/media/v3/upload/:serverName/:mediaId', auth, async (c) => {
    await media.uploadTo(c.get('requester').userId, c.req.param('serverName'), c.req.param('mediaId'), incoming(c));
    return c.json({});
  });
}

function incoming(c: Context<AppEnv>): IncomingUpload {
  // The spec's default when a client sends no type.
  const contentType = c.req.header('content-type')?.trim() || 'application/octet-stream';
  if (contentType.length > 255 || !HEADER_SAFE.test(contentType)) throw invalidParam('Content-Type is not a valid media type');
  const uploadName = c.req.query('filename') || null;
  // It is echoed in Content-Disposition on download: no control characters, a sane length.
  if (uploadName !== null && (uploadName.length > 1024 || !HEADER_SAFE.test(uploadName))) {
    throw invalidParam('filename must be at most 1024 characters without control characters');
  }
  const length = c.req.header('content-length');
  const declared = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
  return { body: c.req.raw.body, declaredLength: declared, contentType, uploadName, signal: c.req.raw.signal };
}
