import type { Tx } from '../../db/database.ts';

/** Users joined to at least one room the given user is joined to (the user included when joined anywhere). */
export async function usersSharingRoomWith(tx: Tx, userId: string): Promise<string[]> {
  const rows = await tx<{ user_id: string }[]>`
    select distinct other.state_key as user_id
    from current_state mine
    join current_state other on other.room_id = mine.room_id and other.type = 'm.room.member' and other.membership = 'join'
    where mine.type = 'm.room.member' and mine.state_key = ${userId} and mine.membership = 'join'`;
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
