import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/hono-env.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import { contentDisposition, HEADER_SAFE } from '../service/disposition.ts';
import type { FileStore } from '../service/file-store.ts';
import type { MediaService } from '../service/media.ts';
import type { Thumbnailer } from '../service/thumbnails.ts';
import { boolParam, intParam, timeoutParam } from './params.ts';
import { sendFile } from './send-file.ts';

interface DownloadDeps {
  auth: MiddlewareHandler<AppEnv>;
  media: MediaService;
  thumbnails: Thumbnailer;
  files: FileStore;
  /** The deprecated /_matrix/media/v3 download and thumbnail endpoints answer without a token. */
  legacyEnabled: boolean;
}

/** Larger requests are nonsense, not a thumbnail: refused before any work. */
const MAX_DIMENSION = 10_000;

/**
 * Downloads and thumbnails: authenticated under /_matrix/client/v1/media, and the
 * deprecated unauthenticated /_matrix/media/v3 ones while enabled, which do not serve
 * media uploaded after the configured freeze.
 */
export function downloadRoutes(app: Hono<AppEnv>, deps: DownloadDeps): void {
  const { auth, media, thumbnails, files, legacyEnabled } = deps;

  const download = async (c: Context<AppEnv>, legacy: boolean, pathName: string | undefined) => {
    if (legacy) {
      if (!legacyEnabled) throw notFound('Unauthenticated media is disabled: use /_matrix/client/v1/media');
      // allow_remote=false means "do not fetch from elsewhere", which this server never does yet.
      boolParam(c, 'allow_remote');
    }
    const m = await media.find(c.req.param('serverName')!, c.req.param('mediaId')!, {
      timeoutMs: timeoutParam(c),
      signal: c.req.raw.signal,
      legacy,
    });
    if (pathName !== undefined && !HEADER_SAFE.test(pathName)) throw invalidParam('fileName may not contain control characters');
    const name = pathName ?? m.upload_name;
    return sendFile(c, files, {
      sha256: m.sha256,
      size: m.size,
      contentType: m.content_type,
      disposition: contentDisposition(m.content_type, name),
      cache: legacy ? 'public' : 'private',
    });
  };

  const thumbnail = async (c: Context<AppEnv>, legacy: boolean) => {
    if (legacy && !legacyEnabled) throw notFound('Unauthenticated media is disabled: use /_matrix/client/v1/media');
    const width = intParam(c, 'width');
    const height = intParam(c, 'height');
    if (width < 1 || height < 1 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
      throw invalidParam(`width and height must be between 1 and ${MAX_DIMENSION}`);
    }
    const method = c.req.query('method') ?? 'scale';
    if (method !== 'crop' && method !== 'scale') throw invalidParam('method must be crop or scale');
    // Animation is not offered: `animated=true` is served as if false, which the spec allows.
    boolParam(c, 'animated');
    const m = await media.find(c.req.param('serverName')!, c.req.param('mediaId')!, {
      timeoutMs: timeoutParam(c),
      signal: c.req.raw.signal,
      legacy,
    });
    const thumb = await thumbnails.thumbnail(
      { serverName: m.server_name, mediaId: m.media_id, contentType: m.content_type, sha256: m.sha256, size: m.size },
      { width, height, method },
    );
    const ext = thumb.contentType.split('/')[1]!;
    return sendFile(c, files, {
      ...thumb,
      // The spec: a thumbnail is always inline.
      disposition: `inline; filename="thumbnail.${ext}"`,
      cache: legacy ? 'public' : 'private',
    });
  };

  const v1 = '/_matrix/client/v1/media';
  app.get(`${v1}/download/:serverName/:mediaId`, auth, (c) => download(c, false, undefined));
  app.get(`${v1}/download/:serverName/:mediaId/:fileName`, auth, (c) => download(c, false, c.req.param('fileName')));
  app.get(`${v1}/thumbnail/:serverName/:mediaId`, auth, (c) => thumbnail(c, false));

  const v3 = '/_matrix/media/v3';
  app.get(`${v3}/download/:serverName/:mediaId`, (c) => download(c, true, undefined));
  app.get(`${v3}/download/:serverName/:mediaId/:fileName`, (c) => download(c, true, c.req.param('fileName')));
  app.get(`${v3}/thumbnail/:serverName/:mediaId`, (c) => thumbnail(c, true));
}
