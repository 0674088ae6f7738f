import type { Tx } from '../../db/database.ts';

export interface ReceiptRow {
  room_id: string;
  receipt_type: string;
  user_id: string;
  thread_id: string;
  event_id: string;
  ts: number;
  stream_pos: number;
}

export async function upsertReceipt(tx: Tx, r: Omit<ReceiptRow, 'stream_pos'>, streamPos: number): Promise<void> {
  await tx`insert into receipts (room_id, receipt_type, user_id, thread_id, event_id, ts, stream_pos)
    values (${r.room_id}, ${r.receipt_type}, ${r.user_id}, ${r.thread_id}, ${r.event_id}, ${r.ts}, ${streamPos})
    on conflict (room_id, receipt_type, user_id, thread_id) do update
      set event_id = excluded.event_id, ts = excluded.ts, stream_pos = excluded.stream_pos`;
}

export async function receiptsSince(tx: Tx, roomIds: readonly string[], since: number, upTo: number): Promise<ReceiptRow[]> {
  if (roomIds.length === 0) return [];
  return tx<ReceiptRow[]>`select room_id, receipt_type, user_id, thread_id, event_id, ts, stream_pos from receipts
    where room_id in ${tx(roomIds as string[])} and stream_pos > ${since} and stream_pos <= ${upTo}`;
}

/** Where the user's newest read receipt (public or private, unthreaded or main) sits in the stream. */
export async function readUpTo(tx: Tx, roomIds: readonly string[], userId: string): Promise<Map<string, number>> {
  if (roomIds.length === 0) return new Map();
  const rows = await tx<{ room_id: string; pos: number }[]>`
    select r.room_id, max(e.stream_pos)::bigint as pos from receipts r join events e on e.event_id = r.event_id
    where r.user_id = ${userId} and r.room_id in ${tx(roomIds as string[])} and r.thread_id in ('', 'main')
    group by r.room_id`;
  return new Map(rows.map((r) => [r.room_id, r.pos]));
}

/** Messages from others after a stream position: the unread count a client badges. */
export async function countUnread(tx: Tx, roomId: string, userId: string, after: number, upTo: number): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select count(*)::bigint as n from events
    where room_id = ${roomId} and stream_pos > ${after} and stream_pos <= ${upTo} and sender <> ${userId}
      and redacted_by is null and state_key is null
      and type in ('m.room.message', 'm.room.encrypted', 'm.sticker', 'm.poll.start', 'org.matrix.msc3381.poll.start')
      and (rel_type is null or rel_type not in ('m.replace', 'm.annotation'))`;
  return row?.n ?? 0;
}

/** Stream position of the event a user's receipt of one type (and thread) points at, if any. */
export async function receiptEventPosition(
  tx: Tx,
  roomId: string,
  receiptType: string,
  userId: string,
  threadId: string,
): Promise<number | undefined> {
  const [row] = await tx<{ pos: number }[]>`
    select e.stream_pos as pos from receipts r join events e on e.event_id = r.event_id
    where r.room_id = ${roomId} and r.receipt_type = ${receiptType} and r.user_id = ${userId} and r.thread_id = ${threadId}`;
  return row?.pos;
}
