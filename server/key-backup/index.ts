import type { Hono, MiddlewareHandler } from 'hono';
import type { Sql } from '../db/database.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { keyRoutes } from './routes/keys.ts';
import { versionRoutes } from './routes/versions.ts';
import { createSessionService } from './service/sessions.ts';
import { createVersionService } from './service/versions.ts';

/**
 * Server-side key backup (room_keys): a user's devices store their megolm session
 * keys, encrypted to a backup key the server never sees, so that a new device can
 * read old messages without another device online.
 */
export function createKeyBackup({ sql, auth }: { sql: Sql; auth: MiddlewareHandler<AppEnv> }) {
  const versions = createVersionService({ sql });
  const sessions = createSessionService({ sql });
  return {
    mount(app: Hono<AppEnv>): void {
      versionRoutes(app, { auth, versions });
      keyRoutes(app, { auth, sessions });
    },
  };
}

export type KeyBackup = ReturnType<typeof createKeyBackup>;
