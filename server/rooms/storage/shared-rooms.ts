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
 * query, in order. The two sides are read apart so that the common case, nobody new, reads only
 * the member rows that changed after `since` (an index range), not every member of the user's rooms.
 */
export async function usersNewlySharingRoomWithEach(tx: Tx, keys: readonly { userId: string; since: number }[]): Promise<string[][]> {
  if (keys.length === 0) return [];
  const rows = await tx<{ i: number; user_id: string }[]>`
    with s as (select * from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.since)}::bigint[])
        with ordinality as s(user_id, since, i)),
      mine as (select s.i, s.user_id, s.since, c.room_id, c.stream_pos from s
        join current_state c on c.type = 'm.room.member' and c.state_key = s.user_id and c.membership = 'join')
    select mine.i::int as i, other.state_key as user_id from mine
      join current_state other on other.room_id = mine.room_id and other.type = 'm.room.member' and other.membership = 'join'
      where mine.stream_pos > mine.since and other.state_key <> mine.user_id
    union
    select mine.i::int as i, other.state_key as user_id from mine
      join current_state other on other.room_id = mine.room_id and other.type = 'm.room.member' and other.stream_pos > mine.since
      where other.membership = 'join' and other.state_key <> mine.user_id`;
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
