import type { Hono, MiddlewareHandler } from 'hono';
import type { Config } from '../config/load.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { turnCredentials } from './turn-credentials.ts';

/** VoIP: TURN credentials for calls. Clients poll this every few minutes, so it stays cheap. */
export function createVoip({ config, auth }: { config: Config; auth: MiddlewareHandler<AppEnv> }) {
  return {
    mount(app: Hono<AppEnv>): void {
      // No TURN server configured: an empty object, as Synapse answers.
      app.get('/_matrix/client/v3/voip/turnServer', auth, (c) =>
        c.json(turnCredentials(config.turn, c.get('requester').userId, Date.now()) ?? {}),
      );
    },
  };
}
