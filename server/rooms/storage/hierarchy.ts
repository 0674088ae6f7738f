import type { Tx } from '../../db/database.ts';
import { DIRECTORY_STATE_TYPES } from './public-rooms.ts';
import type { StateEntry } from './state.ts';

/** The state, besides m.space.child, that a room's entry in a space hierarchy is built from (state key ''). */
export const SUMMARY_STATE_TYPES = [...DIRECTORY_STATE_TYPES, 'm.room.encryption'] as const;

export interface HierarchyRoomRow {
  room_id: string;
  room_version: string;
  room_type: string | null;
  joined: number;
  /** The room's current SUMMARY_STATE_TYPES and m.space.child events. */
  state: StateEntry[];
}

/**
 * The rooms of `roomIds` this server knows (others are left out), each with its
 * joined member count and the ids of the current state events a hierarchy entry
 * and the walk below it read. Two queries for the whole batch, not one per room:
 * a space's children are read together.
 */
export async function hierarchyRooms(tx: Tx, roomIds: readonly string[]): Promise<HierarchyRoomRow[]> {
  if (roomIds.length === 0) return [];
  const ids = [...roomIds];
  const rooms = await tx<Omit<HierarchyRoomRow, 'state'>[]>`
    select r.room_id, r.room_version, r.room_type,
      (select count(*) from current_state m
        where m.room_id = r.room_id and m.type = 'm.room.member' and m.membership = 'join')::bigint as joined
    from rooms r where r.room_id = any(${ids}::text[])`;
  if (rooms.length === 0) return [];
  const cells = await tx<(StateEntry & { room_id: string })[]>`
    select room_id, type, state_key, event_id from current_state
    where room_id = any(${rooms.map((r) => r.room_id)}::text[])
      and (type = 'm.space.child' or (state_key = '' and type in ${tx([...SUMMARY_STATE_TYPES])}))`;
  const byRoom = new Map<string, StateEntry[]>(rooms.map((r) => [r.room_id, []]));
  for (const { room_id, ...entry } of cells) byRoom.get(room_id)?.push(entry);
  return rooms.map((r) => ({ ...r, state: byRoom.get(r.room_id) ?? [] }));
}
