import type { Tx } from '../../db/database.ts';

/*
 * The PostgreSQL engine of sync liveness (liveness/postgres.ts): a lease is presence.syncing_until,
 * "some process has a /sync of the user in flight until then" (migration 000014).
 */

/**
 * Renews leases in one statement; an end never moves back, so the heartbeats of several
 * processes compose in any order. Rows are locked in user order first (as recordSyncs does), so
 * two processes renewing the same users wait for each other instead of deadlocking. A row whose
 * lease already ends as late is not rewritten. Users without a presence row are skipped.
 */
export async function renewSyncLeases(tx: Tx, leases: readonly { userId: string; until: number }[]): Promise<void> {
  if (leases.length === 0) return;
  const ids = leases.map((l) => l.userId);
  await tx`
    with r as (
      select * from unnest(${ids}::text[], ${leases.map((l) => l.until)}::bigint[]) as r(user_id, until)
    ), locked as (
      select user_id from presence where user_id = any(${ids}::text[]) order by user_id for update
    )
    update presence p set syncing_until = r.until
    from r join locked using (user_id)
    where p.user_id = r.user_id and (p.syncing_until is null or p.syncing_until < r.until)`;
}

/** Of the given users, those whose lease has not ended at `now`. */
export async function usersWithLiveLease(tx: Tx, userIds: readonly string[], now: number): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await tx<{ user_id: string }[]>`
    select user_id from presence where user_id = any(${userIds as string[]}::text[]) and syncing_until >= ${now}`;
  return rows.map((r) => r.user_id);
}
