import type { Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/hono-env.ts';
import { MatrixError } from '../http/matrix-error.ts';

/**
 * Server-side key backup (room_keys) is not implemented yet. Until it is, the
 * version lookup answers as a server with no backup does: clients (matrix-js-sdk
 * at start-up) read M_NOT_FOUND as "no backup" rather than "no such endpoint".
 */
export function createKeyBackup({ auth }: { auth: MiddlewareHandler<AppEnv> }) {
  return {
    mount(app: Hono<AppEnv>): void {
      const none = () => {
        throw new MatrixError(404, 'M_NOT_FOUND', 'No current backup version');
      };
      app.get('/_matrix/client/v3/room_keys/version', auth, none);
      app.get('/_matrix/client/v3/room_keys/version/:version', auth, none);
    },
  };
}
