import type { Tx } from '../../db/database.ts';

export async function getAlias(tx: Tx, alias: string): Promise<{ room_id: string; creator: string } | undefined> {
  const [row] = await tx<{ room_id: string; creator: string }[]>`select room_id, creator from room_aliases where alias = ${alias}`;
  return row;
}

/** False when the alias is taken. */
export async function insertAlias(tx: Tx, alias: string, roomId: string, creator: string): Promise<boolean> {
  const rows = await tx`insert into room_aliases (alias, room_id, creator) values (${alias}, ${roomId}, ${creator})
    on conflict do nothing returning alias`;
  return rows.length === 1;
}

export async function deleteAlias(tx: Tx, alias: string): Promise<void> {
  await tx`delete from room_aliases where alias = ${alias}`;
}

export async function aliasesOf(tx: Tx, roomId: string): Promise<string[]> {
  const rows = await tx<{ alias: string }[]>`select alias from room_aliases where room_id = ${roomId} order by alias`;
  return rows.map((r) => r.alias);
}

/** Re-points every alias of one room at another (a room upgrade moves them). */
export async function moveAliases(tx: Tx, fromRoomId: string, toRoomId: string): Promise<string[]> {
  const rows = await tx<{ alias: string }[]>`update room_aliases set room_id = ${toRoomId} where room_id = ${fromRoomId} returning alias`;
  return rows.map((r) => r.alias).sort();
}
