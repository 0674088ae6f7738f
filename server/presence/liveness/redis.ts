import type { RedisClientType } from 'redis';
import { latestPerUser, type SyncLiveness } from './sync-liveness.ts';

/** How long an ended lease stays before a renewal prunes it (and the key outlives its last lease). */
const KEEP_ENDED_MS = 60_000;

export const syncLeasesKey = (namespace: string): string => `${namespace}presence:syncing`;

/**
 * Sync liveness in Redis, when the deployment has one: one sorted set per deployment
 * (`<namespace>presence:syncing`, the bus's namespace), member = user id, score = when the
 * user's lease ends. A heartbeat is one MULTI: ZADD GT (an end only moves forward, whichever
 * process renews, in any order), pruning of leases that ended a while ago, and an expiry on the
 * key no earlier than its latest lease, so the set of a deployment that stopped disappears by
 * itself. A lookup is one ZMSCORE for the whole batch. Leases are liveness, not truth: losing
 * the key (a Redis restart) lets users with a sync in flight time out at worst, and the next
 * renewal of each brings them back (service/sync-tracker.ts).
 */
export function createRedisSyncLiveness(client: RedisClientType, namespace: string): SyncLiveness {
  const key = syncLeasesKey(namespace);
  return {
    async renew(leases) {
      if (leases.length === 0) return;
      const latest = latestPerUser(leases);
      const expireAt = latest.reduce((m, l) => Math.max(m, l.until), 0) + KEEP_ENDED_MS;
      await client
        .multi()
        .zAdd(
          key,
          latest.map((l) => ({ value: l.userId, score: l.until })),
          { comparison: 'GT' },
        )
        .zRemRangeByScore(key, '-inf', `(${Date.now() - KEEP_ENDED_MS}`)
        // A key without an expiry gets one; one with an earlier expiry is extended (never shortened).
        .pExpireAt(key, expireAt, 'NX')
        .pExpireAt(key, expireAt, 'GT')
        .exec();
    },
    async live(userIds, now) {
      if (userIds.length === 0) return new Set();
      const ends = await client.zmScore(key, [...userIds]);
      return new Set(
        userIds.filter((_, i) => {
          const end = ends[i];
          return end !== null && end !== undefined && Number(end) >= now;
        }),
      );
    },
  };
}
