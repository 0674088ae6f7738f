import type { Tx } from '../../db/database.ts';

/*
 * The writes behind presence timing out: each process's heartbeat records its /syncs and the
 * activity it saw, and every process's sweeper moves users whose timers ran out. Several
 * processes run these at once, so each statement is safe to race with itself (see each).
 */

/** What one process tells the database about one user since its last heartbeat; null: nothing new. */
export interface SyncRecord {
  userId: string;
  /** A /sync is in flight here: the lease is renewed to this time. */
  syncingUntil: number | null;
  /** A /sync ended here at this time. */
  lastSyncTs: number | null;
  /** The user was last active (a message, a /sync with set_presence=online) at this time. */
  lastActiveTs: number | null;
}

/**
 * One statement for a whole heartbeat. Values only move forward (greatest() ignores nulls), so
 * heartbeats of several processes about one user compose in any order. Rows are locked in user
 * order first: two processes recording the same users at once then wait for each other instead
 * of deadlocking. Users without a presence row are skipped: a sync that counts makes one first.
 */
export async function recordSyncs(tx: Tx, records: readonly SyncRecord[]): Promise<void> {
  if (records.length === 0) return;
  const ids = records.map((r) => r.userId);
  await tx`
    with r as (
      select * from unnest(
        ${ids}::text[],
        ${records.map((r) => r.syncingUntil)}::bigint[],
        ${records.map((r) => r.lastSyncTs)}::bigint[],
        ${records.map((r) => r.lastActiveTs)}::bigint[]
      ) as r(user_id, syncing_until, last_sync_ts, last_active_ts)
    ), locked as (
      select user_id from presence where user_id = any(${ids}::text[]) order by user_id for update
    )
    update presence p set
      syncing_until = greatest(p.syncing_until, r.syncing_until),
      last_sync_ts = greatest(p.last_sync_ts, r.last_sync_ts),
      last_active_ts = greatest(p.last_active_ts, r.last_active_ts)
    from r join locked using (user_id)
    where p.user_id = r.user_id`;
}

/** A presence change made: whose, and the stream position it took. */
export interface PresenceChange {
  user_id: string;
  stream_pos: number;
}

/*
 * The sweeps. Each picks at most `limit` users with FOR UPDATE SKIP LOCKED, which re-checks the
 * condition on the row as it is when locked: a heartbeat that renewed a lease, or a sync that
 * set the user online, since the statement began makes the row no longer match, and a row
 * another sweeper holds is left to it. So processes sweeping at once each move a user at most
 * once, and never one who has just come back. Each move takes a stream position, as every
 * presence change does, so /sync delivers it. Every condition names presence <> 'offline', the
 * predicate of the presence_awake index, so the planner may read only users not yet offline.
 */

/** Not syncing anywhere, and no sync or activity since `syncedBefore`: offline. */
export async function timeOutToOffline(tx: Tx, now: number, syncedBefore: number, limit: number): Promise<PresenceChange[]> {
  return tx<PresenceChange[]>`
    update presence set presence = 'offline', currently_active = false, stream_pos = take_stream_position()
    where user_id in (
      select user_id from presence
      where presence <> 'offline' and coalesce(syncing_until, 0) < ${now}
        and greatest(last_sync_ts, last_active_ts, 0) < ${syncedBefore}
      order by user_id limit ${limit}
      for update skip locked)
    returning user_id, stream_pos`;
}

/** Online with no activity since `activeBefore`: unavailable (idle), syncing or not. */
export async function timeOutToUnavailable(tx: Tx, activeBefore: number, limit: number): Promise<PresenceChange[]> {
  return tx<PresenceChange[]>`
    update presence set presence = 'unavailable', currently_active = false, stream_pos = take_stream_position()
    where user_id in (
      select user_id from presence
      where presence <> 'offline' and presence = 'online' and coalesce(last_active_ts, 0) < ${activeBefore}
      order by user_id limit ${limit}
      for update skip locked)
    returning user_id, stream_pos`;
}

/**
 * Online and said to be currently active, with no activity since `activeBefore`: no longer
 * currently active. Clients were told not to expect last_active_ago updates while it was true,
 * so its end is a change they hear of (the spec's currently_active).
 */
export async function timeOutCurrentlyActive(tx: Tx, activeBefore: number, limit: number): Promise<PresenceChange[]> {
  return tx<PresenceChange[]>`
    update presence set currently_active = false, stream_pos = take_stream_position()
    where user_id in (
      select user_id from presence
      where presence <> 'offline' and presence = 'online' and currently_active and coalesce(last_active_ts, 0) < ${activeBefore}
      order by user_id limit ${limit}
      for update skip locked)
    returning user_id, stream_pos`;
}
