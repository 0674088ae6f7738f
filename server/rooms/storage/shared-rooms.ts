import { byKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';

/**
 * Users joined to at least one room the given user is joined to (the user included when joined
 * anywhere); with `among`, only those of these candidates.
 */
export async function usersSharingRoomWith(tx: Tx, userId: string, among?: readonly string[]): Promise<string[]> {
  if (among?.length === 0) return [];
  const rows = await tx<{ user_id: string }[]>`
    select distinct other.state_key as user_id
    from current_state mine
    join current_state other on other.room_id = mine.room_id and other.type = 'm.room.member' and other.membership = 'join'
    where mine.type = 'm.room.member' and mine.state_key = ${userId} and mine.membership = 'join'
      ${among ? tx`and other.state_key = any(${among as string[]}::text[])` : tx``}`;
  return rows.map((r) => r.user_id);
}

/** Whether two users are both joined to some room. */
export async function shareARoom(tx: Tx, a: string, b: string): Promise<boolean> {
  const rows = await tx`
    select 1 from current_state x
    join current_state y on y.room_id = x.room_id and y.type = 'm.room.member' and y.state_key = ${b} and y.membership = 'join'
    where x.type = 'm.room.member' and x.state_key = ${a} and x.membership = 'join'
    limit 1`;
  return rows.length > 0;
}

/**
 * Users who came to share a joined room with the user after `since`: they joined one of the
 * user's rooms, or the user joined one of theirs (a member event after `since` on either side; a
 * profile change counts too, which only repeats presence). For several (user, since) keys in one
 * query, in order. Each room is read one of two ways, chosen per row: all its members if the user
 * joined after `since`, else only the member rows that changed after it (an index range), so the
 * common case, nobody new, does not read every member of the user's rooms. The guards sit inside
 * the lateral so the plan holds without table statistics, as on PGlite (no autovacuum): there,
 * for a user in 500 rooms, a join with an OR took 48 ms on PostgreSQL, this form 1 ms.
 */
export async function usersNewlySharingRoomWithEach(tx: Tx, keys: readonly { userId: string; since: number }[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  const rows = await tx<{ i: number; user_id: string }[]>`
    select distinct s.i::int as i, x.user_id
    from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.since)}::bigint[]) with ordinality as s(user_id, since, i)
    join current_state mine on mine.type = 'm.room.member' and mine.state_key = s.user_id and mine.membership = 'join'
    cross join lateral (
      select o.state_key as user_id from current_state o
      where mine.stream_pos > s.since and o.room_id = mine.room_id and o.type = 'm.room.member' and o.membership = 'join'
      union all
      select o.state_key from current_state o
      where mine.stream_pos <= s.since and o.room_id = mine.room_id and o.type = 'm.room.member' and o.stream_pos > s.since
        and o.membership = 'join'
    ) x
    where x.user_id <> s.user_id`;
  return byKeyIndex(keys.length, rows).map((rs) => rs.map((r) => r.user_id));
}

/**
 * The users a user-directory search by `userId` considers, the spec's minimum: the others joined to
 * a room with them, and everyone joined to a room with a public join rule or world_readable history
 * (the searcher too, if they are in one).
 */
export async function usersVisibleInDirectory(tx: Tx, userId: string): Promise<string[]> {
  const rows = await tx<{ user_id: string }[]>`
    select other.state_key as user_id
    from current_state mine
    join current_state other on other.room_id = mine.room_id and other.type = 'm.room.member' and other.membership = 'join'
    where mine.type = 'm.room.member' and mine.state_key = ${userId} and mine.membership = 'join' and other.state_key <> ${userId}
    union
    select m.state_key as user_id
    from current_state s
    join events e on e.event_id = s.event_id
    join current_state m on m.room_id = s.room_id and m.type = 'm.room.member' and m.membership = 'join'
    where s.state_key = '' and (
      (s.type = 'm.room.join_rules' and (e.pdu::json) -> 'content' ->> 'join_rule' = 'public') or
      (s.type = 'm.room.history_visibility' and (e.pdu::json) -> 'content' ->> 'history_visibility' = 'world_readable'))`;
  return rows.map((r) => r.user_id);
}

/**
 * For each (user, since), in order: users who stopped sharing every joined room with the user
 * after `since`. Someone left (or was kicked or banned from) one of the user's rooms, or the user
 * left a room of theirs, and no joined room joins them now: the user's end-to-end clients stop
 * tracking their devices.
 */
export async function usersNoLongerSharingRoomWithEach(tx: Tx, keys: readonly { userId: string; since: number }[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  const rows = await tx<{ i: number; user_id: string }[]>`
    select distinct w.i::int as i, c.user_id
    from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.since)}::bigint[]) with ordinality as w(user_id, since, i)
    cross join lateral (
      select o.state_key as user_id from current_state mine
      join current_state o on o.room_id = mine.room_id and o.type = 'm.room.member' and o.stream_pos > w.since
        and o.membership in ('leave', 'ban')
      where mine.type = 'm.room.member' and mine.state_key = w.user_id and mine.membership = 'join'
      union
      select o.state_key from current_state mine
      join current_state o on o.room_id = mine.room_id and o.type = 'm.room.member' and o.membership = 'join'
      where mine.type = 'm.room.member' and mine.state_key = w.user_id and mine.membership in ('leave', 'ban')
        and mine.stream_pos > w.since
    ) c
    where c.user_id <> w.user_id and not exists (
      select 1 from current_state x
      join current_state y on y.room_id = x.room_id and y.type = 'm.room.member' and y.state_key = c.user_id and y.membership = 'join'
      where x.type = 'm.room.member' and x.state_key = w.user_id and x.membership = 'join')`;
  return byKeyIndex(keys.length, rows).map((rs) => rs.map((r) => r.user_id));
}
