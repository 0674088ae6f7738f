import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';

/** The state a directory entry shows, by event type (content of the current event, state key ''). */
export const DIRECTORY_STATE_TYPES = [
  'm.room.name',
  'm.room.topic',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
] as const;

export interface PublicRoomRow {
  room_id: string;
  room_type: string | null;
  joined: number;
  state: Record<string, JsonObject> | null;
}

/** A position in the directory's order: most joined members first, then room ID. */
export interface DirectoryKey {
  joined: number;
  roomId: string;
}

export interface PublicRoomQuery {
  /** Case-insensitive substring of the name, topic or canonical alias. */
  search?: string | undefined;
  /** Room types to keep; null in the list keeps rooms without a type. Undefined keeps all. */
  roomTypes?: Array<string | null> | undefined;
  /** Rooms strictly after this key (forwards) or strictly before it (backwards). */
  key?: DirectoryKey | undefined;
  backwards: boolean;
  limit: number;
}

/**
 * Published rooms with at least one joined member, in directory order (or its
 * reverse when paging backwards), each with the state its entry is built from.
 */
export async function publicRooms(tx: Tx, q: PublicRoomQuery): Promise<PublicRoomRow[]> {
  const search = q.search ? q.search.toLowerCase() : null;
  const types = q.roomTypes?.filter((t): t is string => t !== null) ?? [];
  const anyType = q.roomTypes === undefined;
  const untyped = q.roomTypes?.includes(null) ?? false;
  const joined = q.key?.joined ?? null;
  const after = q.key?.roomId ?? null;
  const keyset = q.key
    ? q.backwards
      ? tx`and (joined > ${joined} or (joined = ${joined} and room_id < ${after}))`
      : tx`and (joined < ${joined} or (joined = ${joined} and room_id > ${after}))`
    : tx``;
  const typeFilter = anyType
    ? tx``
    : types.length > 0
      ? tx`and (room_type in ${tx(types)} or (${untyped}::boolean and room_type is null))`
      : tx`and (${untyped}::boolean and room_type is null)`;
  const order = q.backwards ? tx`order by joined asc, room_id desc` : tx`order by joined desc, room_id asc`;
  return tx<PublicRoomRow[]>`
    with pub as (
      select r.room_id, r.room_type,
        (select count(*) from current_state m
          where m.room_id = r.room_id and m.type = 'm.room.member' and m.membership = 'join')::bigint as joined,
        (select jsonb_object_agg(cs.type, (e.pdu::json) -> 'content') from current_state cs join events e on e.event_id = cs.event_id
          where cs.room_id = r.room_id and cs.state_key = '' and cs.type in ${tx([...DIRECTORY_STATE_TYPES])}) as state
      from rooms r where r.is_public
    )
    select room_id, room_type, joined, state from pub
    where joined > 0 ${typeFilter} ${keyset}
      and (${search}::text is null or position(${search}::text in lower(
        coalesce(state -> 'm.room.name' ->> 'name', '') || ' ' ||
        coalesce(state -> 'm.room.topic' ->> 'topic', '') || ' ' ||
        coalesce(state -> 'm.room.canonical_alias' ->> 'alias', ''))) > 0)
    ${order} limit ${q.limit}`;
}

export async function countPublicRooms(tx: Tx): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select count(*)::bigint as n from rooms where is_public`;
  return row?.n ?? 0;
}
