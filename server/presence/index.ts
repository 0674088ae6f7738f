import type { Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/hono-env.ts';
import { presenceRoutes } from './routes/presence.ts';
import { createPresenceService, type PresenceDeps } from './service/presence.ts';

export type { PresenceState } from './storage/presence.ts';

/** Presence: online/unavailable/offline and a status message, shared with users in common rooms. */
export function createPresence(deps: PresenceDeps & { auth: MiddlewareHandler<AppEnv> }) {
  const presence = createPresenceService(deps);
  return {
    /** For /sync: m.presence events due to a user. */
    presenceSince: presence.presenceSince,
    batched: presence.batched,
    /** For /sync's set_presence. */
    syncing: presence.syncing,
    mount(app: Hono<AppEnv>): void {
      presenceRoutes(app, { auth: deps.auth, presence });
    },
  };
}

export type Presence = ReturnType<typeof createPresence>;
