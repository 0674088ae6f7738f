import type { Tx } from '../../db/database.ts';

/** What decides whether an upload replaces a stored key (the spec's rules, service/replace.ts). */
export interface SessionMeta {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
}

/** One backed-up session key, as the API carries it. */
export interface SessionKey extends SessionMeta {
  session_data: Record<string, unknown>;
}

export interface SessionRow extends SessionKey {
  room_id: string;
  session_id: string;
}

/** Which sessions a version's keys are asked about: all of them, a room's, or one. */
export interface SessionScope {
  roomId?: string;
  sessionId?: string;
}

/** The stored metadata of those of `keys` the version already has. */
export async function storedMeta(
  tx: Tx,
  userId: string,
  version: number,
  keys: readonly { roomId: string; sessionId: string }[],
): Promise<(SessionMeta & { room_id: string; session_id: string })[]> {
  if (keys.length === 0) return [];
  return tx<(SessionMeta & { room_id: string; session_id: string })[]>`
    select s.room_id, s.session_id, s.first_message_index, s.forwarded_count, s.is_verified
    from key_backup_sessions s
    join unnest(${keys.map((k) => k.roomId)}::text[], ${keys.map((k) => k.sessionId)}::text[]) as k(room_id, session_id)
      on s.room_id = k.room_id and s.session_id = k.session_id
    where s.user_id = ${userId} and s.version = ${version}`;
}

/**
 * Writes the given keys over whatever the version holds for their sessions. (The
 * booleans go as text: postgres.js 3.4 types an array of booleans as one boolean.)
 */
export async function upsertSessions(tx: Tx, userId: string, version: number, rows: readonly SessionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx`insert into key_backup_sessions
      (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data)
    select ${userId}, ${version}, r.room_id, r.session_id, r.fmi, r.fc, r.verified::boolean, r.data::jsonb
    from unnest(${rows.map((r) => r.room_id)}::text[], ${rows.map((r) => r.session_id)}::text[],
      ${rows.map((r) => r.first_message_index)}::bigint[], ${rows.map((r) => r.forwarded_count)}::bigint[],
      ${rows.map((r) => String(r.is_verified))}::text[], ${rows.map((r) => JSON.stringify(r.session_data))}::text[])
      as r(room_id, session_id, fmi, fc, verified, data)
    on conflict (user_id, version, room_id, session_id) do update set
      first_message_index = excluded.first_message_index, forwarded_count = excluded.forwarded_count,
      is_verified = excluded.is_verified, session_data = excluded.session_data`;
}

/** The version's keys in `scope`. */
export async function readSessions(tx: Tx, userId: string, version: number, scope: SessionScope): Promise<SessionRow[]> {
  return tx<SessionRow[]>`select room_id, session_id, first_message_index, forwarded_count, is_verified, session_data
    from key_backup_sessions
    where user_id = ${userId} and version = ${version}
      and (${scope.roomId ?? null}::text is null or room_id = ${scope.roomId ?? null})
      and (${scope.sessionId ?? null}::text is null or session_id = ${scope.sessionId ?? null})`;
}

/** Deletes the version's keys in `scope`; returns how many there were. */
export async function deleteSessions(tx: Tx, userId: string, version: number, scope: SessionScope): Promise<number> {
  const result = await tx`delete from key_backup_sessions
    where user_id = ${userId} and version = ${version}
      and (${scope.roomId ?? null}::text is null or room_id = ${scope.roomId ?? null})
      and (${scope.sessionId ?? null}::text is null or session_id = ${scope.sessionId ?? null})`;
  return result.count;
}
