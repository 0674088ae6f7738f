import type { Tx } from '../../db/database.ts';

/*
 * The writes behind presence timing out: each process's heartbeat records its /syncs and the
 * activity it saw, and every process's sweeper moves users whose timers ran out. Several
 * processes run these at once, so each statement is safe to race with itself (see each).
 */

/** A presence change made: whose, and the stream position it took. */
export interface PresenceChange {
  user_id: string;
  stream_pos: number;
}

/** What one process tells the database about one user since its last heartbeat; null: nothing new. */
export interface SyncRecord {
  userId: string;
  /** A /sync ended here at this time, or (a claim, `resume` set) one was in flight here at this time. */
  lastSyncTs: number | null;
  /** The user was last active (a message, a /sync with set_presence=online) at this time. */
  lastActiveTs: number | null;
  /**
   * A claim: a /sync of the user is in flight here with this set_presence, and a sweeper may
   * have timed them out before its lease could be seen (service/sync-tracker.ts). If the user
   * is offline now, they are set back to this.
   */
  resume: 'online' | 'unavailable' | null;
}

/**
 * One statement for a whole heartbeat. Values only move forward (greatest() ignores nulls), so
 * heartbeats of several processes about one user compose in any order. Rows are locked in user
 * order first: two processes recording the same users at once then wait for each other instead
 * of deadlocking. Users without a presence row are skipped: a sync that counts makes one first.
 * A claim that finds its user offline sets them back, with a stream position as every presence
 * change takes; those changes are returned, to be announced. Back online is activity only if the
 * record carries some: otherwise currently_active stays false.
 */
export async function recordSyncs(tx: Tx, records: readonly SyncRecord[]): Promise<PresenceChange[]> {
  if (records.length === 0) return [];
  const ids = records.map((r) => r.userId);
  // `locked` reads each row as it is once locked: a sweeper that committed meanwhile is seen.
  return tx<PresenceChange[]>`
    with r as (
      select * from unnest(
        ${ids}::text[],
        ${records.map((r) => r.lastSyncTs)}::bigint[],
        ${records.map((r) => r.lastActiveTs)}::bigint[],
        ${records.map((r) => r.resume)}::text[]
      ) as r(user_id, last_sync_ts, last_active_ts, resume)
    ), locked as (
      select user_id, presence = 'offline' as offline from presence
      where user_id = any(${ids}::text[]) order by user_id for update
    ), recorded as (
      update presence p set
        last_sync_ts = greatest(p.last_sync_ts, r.last_sync_ts),
        last_active_ts = greatest(p.last_active_ts, r.last_active_ts),
        presence = case when l.offline and r.resume is not null then r.resume else p.presence end,
        currently_active = case when l.offline and r.resume is not null
          then r.resume = 'online' and r.last_active_ts is not null else p.currently_active end,
        last_seen_at = case when l.offline and r.resume is not null then now() else p.last_seen_at end,
        stream_pos = case when l.offline and r.resume is not null then take_stream_position() else p.stream_pos end
      from r join locked l using (user_id)
      where p.user_id = r.user_id
      returning p.user_id, p.stream_pos, l.offline and r.resume is not null as resumed
    )
    select user_id, stream_pos from recorded where resumed`;
}

/*
 * The sweeps. Each moves users picked with FOR UPDATE SKIP LOCKED, which re-checks the condition
 * on the row as it is when locked: a heartbeat that recorded a sync or activity, or a sync that
 * set the user online, since the statement began makes the row no longer match, and a row
 * another sweeper holds is left to it. So processes sweeping at once each move a user at most
 * once, and never one who has just come back. Each move takes a stream position, as every
 * presence change does, so /sync delivers it. Every condition names presence <> 'offline', the
 * predicate of the presence_awake index, so the planner may read only users not yet offline.
 */

/**
 * Users not offline with no sync or activity recorded since `syncedBefore`, after `after` in user
 * order, at most `limit`: those who may have stopped syncing. Whether one still has a /sync in
 * flight is the sync liveness's to say (liveness/); read without locks, re-checked by the move.
 */
export async function offlineCandidates(tx: Tx, syncedBefore: number, after: string, limit: number): Promise<string[]> {
  const rows = await tx<{ user_id: string }[]>`
    select user_id from presence
    where presence <> 'offline' and greatest(last_sync_ts, last_active_ts, 0) < ${syncedBefore} and user_id > ${after}
    order by user_id limit ${limit}`;
  return rows.map((r) => r.user_id);
}

/** Of `userIds` (found not syncing anywhere), those still with no sync or activity since `syncedBefore`: offline. */
export async function timeOutToOffline(tx: Tx, userIds: readonly string[], syncedBefore: number): Promise<PresenceChange[]> {
  if (userIds.length === 0) return [];
  return tx<PresenceChange[]>`
    update presence set presence = 'offline', currently_active = false, stream_pos = take_stream_position()
    where user_id in (
      select user_id from presence
      where user_id = any(${userIds as string[]}::text[]) and presence <> 'offline'
        and greatest(last_sync_ts, last_active_ts, 0) < ${syncedBefore}
      order by user_id
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
