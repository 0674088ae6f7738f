import { byKeyIndex, oneByKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';

export interface RoomRow {
  room_id: string;
  room_version: string;
  creator: string;
  is_public: boolean;
  room_type: string | null;
}

export async function insertRoom(
  tx: Tx,
  r: { roomId: string; version: string; creator: string; isPublic: boolean; roomType: string | null },
): Promise<void> {
  await tx`insert into rooms (room_id, room_version, creator, is_public, room_type)
    values (${r.roomId}, ${r.version}, ${r.creator}, ${r.isPublic}, ${r.roomType})`;
}

export async function getRoom(tx: Tx, roomId: string): Promise<RoomRow | undefined> {
  const [row] = await tx<RoomRow[]>`select room_id, room_version, creator, is_public, room_type from rooms where room_id = ${roomId}`;
  return row;
}

export async function setRoomPublic(tx: Tx, roomId: string, isPublic: boolean): Promise<void> {
  await tx`update rooms set is_public = ${isPublic} where room_id = ${roomId}`;
}

export interface CurrentStateRow {
  type: string;
  state_key: string;
  event_id: string;
  membership: string | null;
}

export async function upsertCurrentState(
  tx: Tx,
  roomId: string,
  e: { type: string; stateKey: string; eventId: string; membership: string | null; streamPos: number },
): Promise<void> {
  await tx`insert into current_state (room_id, type, state_key, event_id, membership, stream_pos)
    values (${roomId}, ${e.type}, ${e.stateKey}, ${e.eventId}, ${e.membership}, ${e.streamPos})
    on conflict (room_id, type, state_key) do update
      set event_id = excluded.event_id, membership = excluded.membership, stream_pos = excluded.stream_pos`;
}

export async function deleteCurrentState(tx: Tx, roomId: string, type: string, stateKey: string): Promise<void> {
  await tx`delete from current_state where room_id = ${roomId} and type = ${type} and state_key = ${stateKey}`;
}

export async function currentState(tx: Tx, roomId: string): Promise<CurrentStateRow[]> {
  return tx<CurrentStateRow[]>`select type, state_key, event_id, membership from current_state where room_id = ${roomId}`;
}

export interface StateCell {
  roomId: string;
  type: string;
  stateKey: string;
}

/** The current state event of each (room, type, state key), in order, in one query. */
export async function currentStateEventsEach(tx: Tx, cells: readonly StateCell[]): Promise<(string | undefined)[]> {
  if (cells.length === 0) return [];
  const rows = await tx<{ i: number; event_id: string }[]>`
    select s.i::int as i, c.event_id
    from unnest(${cells.map((c) => c.roomId)}::text[], ${cells.map((c) => c.type)}::text[], ${cells.map((c) => c.stateKey)}::text[])
      with ordinality as s(room_id, type, state_key, i)
    join current_state c using (room_id, type, state_key)`;
  return oneByKeyIndex(cells.length, rows).map((r) => r?.event_id);
}

export interface MembershipRow {
  room_id: string;
  membership: string;
  event_id: string;
  stream_pos: number;
}

/** A user's current membership in every room they have one in. */
export async function membershipsOf(tx: Tx, userId: string): Promise<MembershipRow[]> {
  return (await membershipsEach(tx, [userId]))[0]!;
}

/** `membershipsOf` of several users in one query, in order. */
export async function membershipsEach(tx: Tx, userIds: readonly string[]): Promise<MembershipRow[][]> {
  if (userIds.length === 0) return [];
  const rows = await tx<(MembershipRow & { i: number })[]>`
    select s.i::int as i, c.room_id, c.membership, c.event_id, c.stream_pos
    from unnest(${userIds as string[]}::text[]) with ordinality as s(user_id, i)
    join current_state c on c.type = 'm.room.member' and c.state_key = s.user_id`;
  return byKeyIndex(userIds.length, rows).map((rs) => rs.map(({ i: _, ...m }) => m));
}

export async function membersOf(
  tx: Tx,
  roomId: string,
  membership?: string,
): Promise<{ user_id: string; membership: string; event_id: string }[]> {
  return membership
    ? tx`select state_key as user_id, membership, event_id from current_state
         where room_id = ${roomId} and type = 'm.room.member' and membership = ${membership}`
    : tx`select state_key as user_id, membership, event_id from current_state
         where room_id = ${roomId} and type = 'm.room.member'`;
}

export interface TxnKey {
  userId: string;
  deviceId: string;
  txnId: string;
}

/** The events already stored for any of these client transactions, by `txnKeyString`. */
export async function getTxnEvents(tx: Tx, keys: readonly TxnKey[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await tx<{ user_id: string; device_id: string; txn_id: string; event_id: string }[]>`
    select t.user_id, t.device_id, t.txn_id, t.event_id
    from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.deviceId)}::text[], ${keys.map((k) => k.txnId)}::text[])
      as k(user_id, device_id, txn_id)
    join event_txns t using (user_id, device_id, txn_id)`;
  return new Map(rows.map((r) => [txnKeyString({ userId: r.user_id, deviceId: r.device_id, txnId: r.txn_id }), r.event_id]));
}

export const txnKeyString = (k: TxnKey): string => JSON.stringify([k.userId, k.deviceId, k.txnId]);

export async function insertTxn(tx: Tx, userId: string, deviceId: string, txnId: string, eventId: string): Promise<void> {
  await tx`insert into event_txns (user_id, device_id, txn_id, event_id) values (${userId}, ${deviceId}, ${txnId}, ${eventId})`;
}

/** Forgets send transaction ids older than `keptMs`, at most `limit` at a time; how many went. */
export async function pruneTxns(tx: Tx, keptMs: number, limit: number): Promise<number> {
  const rows = await tx`
    delete from event_txns where (user_id, device_id, txn_id) in (
      select user_id, device_id, txn_id from event_txns
      where created_at < now() - ${keptMs}::bigint * interval '1 millisecond' limit ${limit})`;
  return rows.count;
}

/** A user's current membership in one room: null for none. */
export async function membershipOf(tx: Tx, roomId: string, userId: string): Promise<string | null> {
  const [row] = await tx<{ membership: string | null }[]>`
    select membership from current_state where room_id = ${roomId} and type = 'm.room.member' and state_key = ${userId}`;
  return row?.membership ?? null;
}
