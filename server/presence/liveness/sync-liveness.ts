/**
 * Who has a /sync in flight, across every process of a deployment: the short-lived fact the
 * presence sweepers need before timing a user out (service/sweeper.ts). Each process's heartbeat
 * renews a lease for the users it has a sync of in flight (service/sync-tracker.ts); a process
 * that dies stops renewing, and its users time out once their leases have ended.
 *
 * Two engines, one contract (test/contracts/presence-liveness.contract.ts): PostgreSQL, the
 * embedded default (postgres.ts: a column of the presence row), and Redis when the deployment
 * has one (redis.ts: no PostgreSQL row rewritten per syncing user and heartbeat).
 *
 * Liveness, never presence: presence itself stays in PostgreSQL, where each change takes a stream
 * position. What a lease may be trusted for, and the race at its edges, is in sync-tracker.ts.
 */
export interface SyncLease {
  userId: string;
  /** When the lease ends (ms since the epoch, the renewing process's clock). */
  until: number;
}

export interface SyncLiveness {
  /**
   * Renews these leases in one round trip. A lease only moves forward: an end earlier than the
   * one held (another process's heartbeat, or a late one) changes nothing. A user is renewed
   * only once they have a presence row (the PostgreSQL engine keeps the lease in it): every
   * user whose /sync counts has one by then, the sync that counts made it.
   */
  renew(leases: readonly SyncLease[]): Promise<void>;
  /** Of `userIds`, those whose lease has not ended at `now` (ends at `now` included); one round trip. */
  live(userIds: readonly string[], now: number): Promise<Set<string>>;
}

/** The latest end per user: a batch that names a user twice keeps the later one. */
export function latestPerUser(leases: readonly SyncLease[]): SyncLease[] {
  const byUser = new Map<string, number>();
  for (const { userId, until } of leases) byUser.set(userId, Math.max(byUser.get(userId) ?? -Infinity, until));
  return [...byUser].map(([userId, until]) => ({ userId, until }));
}
