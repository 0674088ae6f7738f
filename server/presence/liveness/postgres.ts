import type { Sql } from '../../db/database.ts';
import { renewSyncLeases, usersWithLiveLease } from '../storage/sync-leases.ts';
import { latestPerUser, type SyncLiveness } from './sync-liveness.ts';

/**
 * Sync liveness in PostgreSQL, the embedded default: the lease is a column of the user's presence
 * row, so each renewal rewrites that row (a dead tuple for vacuum per syncing user and renewal).
 */
export function createPostgresSyncLiveness(sql: Sql): SyncLiveness {
  return {
    async renew(leases) {
      await renewSyncLeases(sql, latestPerUser(leases));
    },
    async live(userIds, now) {
      return new Set(await usersWithLiveLease(sql, userIds, now));
    },
  };
}
