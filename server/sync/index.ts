import type { Hono, MiddlewareHandler } from 'hono';
import type { Accounts } from '../accounts/index.ts';
import type { Sql } from '../db/database.ts';
import type { AppEnv } from '../http/hono-env.ts';
import type { Notifier } from '../notifier/index.ts';
import { syncRoutes, type SyncRouteDeps } from './routes/sync.ts';
import type { SyncSources } from './service/sources.ts';
import { createSync } from './service/sync.ts';

export { createNotifier, type Notifier } from '../notifier/index.ts';
export { createTyping, type Typing } from '../notifier/index.ts';
export type { SyncSources } from './service/sources.ts';
export { syncTokenPos } from './service/sync-token.ts';

/** /sync: everything a client has not seen yet, long-polled through the notifier. */
export interface SyncComponentDeps {
  sql: Sql;
  notifier: Notifier;
  sources: SyncSources;
  accounts: Accounts;
  /** Aborted at shutdown: long-polls answer at once instead of holding the server open. */
  shutdown: AbortSignal;
  /** Presence's hook for /sync's set_presence. */
  syncing?: SyncRouteDeps['syncing'];
  /** Joined rooms one /sync reads at once (1 where the database is a single session). */
  roomsInParallel: number;
}

export function createSyncComponent({ sql, notifier, sources, accounts, shutdown, syncing, roomsInParallel }: SyncComponentDeps) {
  const sync = createSync({ sql, notifier, sources, roomsInParallel });
  const auth: MiddlewareHandler<AppEnv> = accounts.auth;
  return {
    mount(app: Hono<AppEnv>): void {
      syncRoutes(app, { auth, sync, getFilter: accounts.userData.getFilter, shutdown, ...(syncing ? { syncing } : {}) });
    },
  };
}
