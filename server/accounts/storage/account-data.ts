import type { JsonObject } from '../../../federation/events/pdu.ts';
import { byKeyIndex, oneByKeyIndex } from '../../db/batch.ts';
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
  return (await getAccountDataEach(tx, [userId], roomId, type))[0];
}

/** One entry (room and type) of each of several users, in one query, in order. */
export async function getAccountDataEach(
  tx: Tx,
  userIds: readonly string[],
  roomId: string,
  type: string,
): Promise<(JsonObject | undefined)[]> {
  if (userIds.length === 0) return [];
  const rows = await tx<{ i: number; content: JsonObject }[]>`
    select s.i::int as i, a.content
    from unnest(${userIds as string[]}::text[]) with ordinality as s(user_id, i)
    join account_data a on a.user_id = s.user_id and a.room_id = ${roomId} and a.type = ${type}`;
  return oneByKeyIndex(userIds.length, rows).map((r) => r?.content);
}

export interface AccountDataRow {
  room_id: string;
  type: string;
  content: JsonObject;
  stream_pos: number;
}

/** What each (user, since) key changed after `since` (0 for all), for /sync, in one query, in order. */
export async function accountDataSinceEach(tx: Tx, keys: readonly { userId: string; since: number }[]): Promise<AccountDataRow[][]> {
  if (keys.length === 0) return [];
  const rows = await tx<(AccountDataRow & { i: number })[]>`
    select s.i::int as i, a.room_id, a.type, a.content, a.stream_pos
    from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.since)}::bigint[]) with ordinality as s(user_id, since, i)
    join account_data a on a.user_id = s.user_id and a.stream_pos > s.since
    order by a.stream_pos`;
  return byKeyIndex(keys.length, rows).map((rs) => rs.map(({ i: _, ...a }) => a));
}
