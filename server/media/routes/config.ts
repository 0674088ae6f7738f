import type { Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../http/hono-env.ts';
import { missingParam, unrecognized } from '../../http/matrix-error.ts';
import type { UrlPreviewer } from '../service/preview.ts';

/** /config, and /preview_url when previews are switched on (off, it is not an endpoint here, as in Synapse). */
export function configRoutes(
  app: Hono<AppEnv>,
  { auth, maxUploadBytes, previews }: { auth: MiddlewareHandler<AppEnv>; maxUploadBytes: number; previews: UrlPreviewer | undefined },
): void {
  for (const path of ['/_matrix/client/v1/media/config', '/_matrix/media/v3/config']) {
    app.get(path, auth, (c) => c.json({ 'm.upload.size': maxUploadBytes }));
  }
  for (const path of ['/_matrix/client/v1/media/preview_url', '/_matrix/media/v3/preview_url']) {
    app.get(path, auth, async (c) => {
      if (!previews) throw unrecognized('URL previews are not enabled on this server');
      const url = c.req.query('url');
      if (!url) throw missingParam('Missing query parameter: url');
      return c.json(await previews.preview(url));
    });
  }
}
