import type { Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import type { Sql } from '../db/database.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { configRoutes } from './routes/config.ts';
import { downloadRoutes } from './routes/download.ts';
import { uploadRoutes } from './routes/upload.ts';
import { createFileStore } from './service/file-store.ts';
import { createMediaService } from './service/media.ts';
import { createUrlPreviewer } from './service/preview.ts';
import { createThumbnailer } from './service/thumbnails.ts';

/** A temp file this old is from an upload that a crash cut short, not one still arriving. */
const STALE_UPLOAD_MS = 86_400_000;

/**
 * The media repository: uploads (direct and async), downloads and thumbnails for
 * mxc:// URIs of this server, stored content-addressed under media.store_dir.
 */
export function createMedia({ sql, config, auth, log }: { sql: Sql; config: Config; auth: MiddlewareHandler<AppEnv>; log: Logger }) {
  const files = createFileStore(config.media.store_dir);
  const media = createMediaService({ sql, config, files });
  const thumbnails = createThumbnailer({ sql, files, maxImagePixels: config.media.max_image_pixels });
  const previews = config.media.url_preview.enabled ? createUrlPreviewer(config.media.url_preview) : undefined;
  void files.sweepTemp(STALE_UPLOAD_MS).catch((err: unknown) => log.warn({ err }, 'could not sweep stale media upload files'));
  return {
    mount(app: Hono<AppEnv>): void {
      uploadRoutes(app, { auth, media });
      downloadRoutes(app, { auth, media, thumbnails, files, legacyEnabled: config.media.enable_legacy_unauthenticated });
      configRoutes(app, { auth, maxUploadBytes: config.media.max_upload_bytes, previews });
    },
  };
}

export type Media = ReturnType<typeof createMedia>;
