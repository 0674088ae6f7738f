import type { Tx } from '../../db/database.ts';

export type PresenceState = 'online' | 'unavailable' | 'offline';

export interface PresenceRow {
  user_id: string;
  presence: PresenceState;
  status_msg: string | null;
  last_active_ts: number | null;
  currently_active: boolean;
  stream_pos: number;
  /** When a /sync of the user that affects presence last started or ended (as recorded). */
  last_sync_ts: number | null;
}

// Not syncing_until: that is the sync liveness's (liveness/postgres.ts), read by the sweeper only.
const COLUMNS = 'user_id, presence, status_msg, last_active_ts, currently_active, stream_pos, last_sync_ts';

export async function getPresence(tx: Tx, userId: string): Promise<PresenceRow | undefined> {
  const [row] = await tx<PresenceRow[]>`select ${tx.unsafe(COLUMNS)} from presence where user_id = ${userId}`;
  return row;
}

/**
 * Writes a user's presence; last_seen_at (the seed's column) follows every change. A write made
 * by a /sync starting also records that sync (`synced`). The activity and sync columns only ever
 * move forward: a process's heartbeat may have recorded later ones since `p` was read.
 */
export async function upsertPresence(
  tx: Tx,
  p: {
    userId: string;
    presence: PresenceState;
    statusMsg: string | null;
    lastActiveTs: number | null;
    currentlyActive: boolean;
    synced?: { lastSyncTs: number };
  },
  streamPos: number,
): Promise<void> {
  const lastSyncTs = p.synced?.lastSyncTs ?? null;
  await tx`insert into presence (user_id, presence, status_msg, last_active_ts, currently_active, last_seen_at, stream_pos,
      last_sync_ts)
    values (${p.userId}, ${p.presence}, ${p.statusMsg}, ${p.lastActiveTs}, ${p.currentlyActive}, now(), ${streamPos},
      ${lastSyncTs})
    on conflict (user_id) do update set presence = excluded.presence, status_msg = excluded.status_msg,
      last_active_ts = greatest(presence.last_active_ts, excluded.last_active_ts), currently_active = excluded.currently_active,
      last_seen_at = excluded.last_seen_at, stream_pos = excluded.stream_pos,
      last_sync_ts = greatest(presence.last_sync_ts, excluded.last_sync_ts)`;
}

/** Presence of the given users changed in (since, upTo]. */
export async function presenceChangedSince(tx: Tx, userIds: readonly string[], since: number, upTo: number): Promise<PresenceRow[]> {
  if (userIds.length === 0) return [];
  return tx<PresenceRow[]>`select ${tx.unsafe(COLUMNS)} from presence
    where user_id = any(${userIds as string[]}::text[]) and stream_pos > ${since} and stream_pos <= ${upTo}
    order by stream_pos`;
}

/** Everyone's presence changed in (since, upTo], oldest first, at most `limit` rows (presence_stream index). */
export async function presenceChangedBetween(tx: Tx, since: number, upTo: number, limit: number): Promise<PresenceRow[]> {
  return tx<PresenceRow[]>`select ${tx.unsafe(COLUMNS)} from presence
    where stream_pos > ${since} and stream_pos <= ${upTo}
    order by stream_pos limit ${limit}`;
}

/** The current presence of the given users (those without a row have none). */
export async function presenceOfUsers(tx: Tx, userIds: readonly string[]): Promise<PresenceRow[]> {
  if (userIds.length === 0) return [];
  return tx<PresenceRow[]>`select ${tx.unsafe(COLUMNS)} from presence where user_id = any(${userIds as string[]}::text[])`;
}
