import type { Tx } from '../../db/database.ts';

export async function forgetRoom(tx: Tx, userId: string, roomId: string): Promise<void> {
  await tx`insert into forgotten_rooms (user_id, room_id) values (${userId}, ${roomId}) on conflict do nothing`;
}

/** A room is forgotten until the user's membership changes again. */
export async function unforgetRoom(tx: Tx, userId: string, roomId: string): Promise<void> {
  await tx`delete from forgotten_rooms where user_id = ${userId} and room_id = ${roomId}`;
}

export async function forgottenRooms(tx: Tx, userId: string): Promise<Set<string>> {
  const rows = await tx<{ room_id: string }[]>`select room_id from forgotten_rooms where user_id = ${userId}`;
  return new Set(rows.map((r) => r.room_id));
}

export async function isRoomForgotten(tx: Tx, userId: string, roomId: string): Promise<boolean> {
  const rows = await tx`select 1 from forgotten_rooms where user_id = ${userId} and room_id = ${roomId}`;
  return rows.length > 0;
}
