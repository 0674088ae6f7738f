import { byKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';

export async function forgetRoom(tx: Tx, userId: string, roomId: string): Promise<void> {
  await tx`insert into forgotten_rooms (user_id, room_id) values (${userId}, ${roomId}) on conflict do nothing`;
}

/** A room is forgotten until the user's membership changes again. */
export async function unforgetRoom(tx: Tx, userId: string, roomId: string): Promise<void> {
  await tx`delete from forgotten_rooms where user_id = ${userId} and room_id = ${roomId}`;
}

/** The rooms each of several users has forgotten, in one query, in order. */
export async function forgottenRoomsEach(tx: Tx, userIds: readonly string[]): Promise<Set<string>[]> {
  if (userIds.length === 0) return [];
  const rows = await tx<{ i: number; room_id: string }[]>`
    select s.i::int as i, f.room_id
    from unnest(${userIds as string[]}::text[]) with ordinality as s(user_id, i)
    join forgotten_rooms f on f.user_id = s.user_id`;
  return byKeyIndex(userIds.length, rows).map((rs) => new Set(rs.map((r) => r.room_id)));
}

export async function isRoomForgotten(tx: Tx, userId: string, roomId: string): Promise<boolean> {
  const rows = await tx`select 1 from forgotten_rooms where user_id = ${userId} and room_id = ${roomId}`;
  return rows.length > 0;
}
