import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';

/** Global account data uses room_id ''. */
export async function putAccountData(
  tx: Tx,
  userId: string,
  roomId: string,
  type: string,
  content: JsonObject,
  streamPos: number,
): Promise<void> {
  await tx`
    insert into account_data (user_id, room_id, type, content, stream_pos)
    values (${userId}, ${roomId}, ${type}, ${tx.json(content)}, ${streamPos})
    on conflict (user_id, room_id, type) do update set content = excluded.content, stream_pos = excluded.stream_pos`;
}

/** Serialises read-modify-write of one account data entry (e.g. the m.tag map) until the transaction ends. */
export async function lockAccountData(tx: Tx, userId: string, roomId: string, type: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`${userId}\n${roomId}\n${type}`}, 1))`;
}

export async function getAccountData(tx: Tx, userId: string, roomId: string, type: string): Promise<JsonObject | undefined> {
  const [row] = await tx<{ content: JsonObject }[]>`
    select content from account_data where user_id = ${userId} and room_id = ${roomId} and type = ${type}`;
  return row?.content;
}

export interface AccountDataRow {
  room_id: string;
  type: string;
  content: JsonObject;
  stream_pos: number;
}

/** Everything changed after `since` (0 for all), for /sync. */
export async function accountDataSince(tx: Tx, userId: string, since: number): Promise<AccountDataRow[]> {
  return tx<AccountDataRow[]>`
    select room_id, type, content, stream_pos from account_data
    where user_id = ${userId} and stream_pos > ${since} order by stream_pos`;
}
