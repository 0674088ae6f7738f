import type { Tx } from '../../db/database.ts';
import { byWindow, type RoomSpan } from './events.ts';

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

/** The receipts written in each room's span, in one query for all of them, in order. */
export async function receiptsEach(tx: Tx, spans: readonly RoomSpan[]): Promise<ReceiptRow[][]> {
  const out = spans.map((): ReceiptRow[] => []);
  await Promise.all(
    byWindow(spans).map(async (w) => {
      const rows = await tx<ReceiptRow[]>`
        select room_id, receipt_type, user_id, thread_id, event_id, ts, stream_pos from receipts
        where room_id = any(${w.roomIds}::text[]) and stream_pos > ${w.after} and stream_pos <= ${w.upTo}`;
      const byRoom = new Map<string, ReceiptRow[]>();
      for (const r of rows) {
        const list = byRoom.get(r.room_id);
        if (list) list.push(r);
        else byRoom.set(r.room_id, [r]);
      }
      w.indexes.forEach((i) => (out[i] = byRoom.get(spans[i]!.roomId) ?? []));
    }),
  );
  return out;
}

export interface ReaderInRoom {
  roomId: string;
  userId: string;
}

/**
 * Where each user's read receipts (public or private) sit in the stream of each room, by thread
 * ('' unthreaded, 'main', or a thread root), for several (room, user) pairs in one query, in order.
 */
export async function readPositionsEach(tx: Tx, keys: readonly ReaderInRoom[]): Promise<Record<string, number>[]> {
  if (keys.length === 0) return [];
  const rows = await tx<{ i: number; thread_id: string; pos: number }[]>`
    select s.i::int as i, r.thread_id, max(e.stream_pos)::bigint as pos
    from unnest(${keys.map((k) => k.roomId)}::text[], ${keys.map((k) => k.userId)}::text[]) with ordinality as s(room_id, user_id, i)
    join receipts r on r.room_id = s.room_id and r.user_id = s.user_id and r.receipt_type in ('m.read', 'm.read.private')
    join events e on e.event_id = r.event_id
    group by s.i, r.thread_id`;
  const out = keys.map((): Record<string, number> => ({}));
  for (const r of rows) out[r.i - 1]![r.thread_id] = Number(r.pos);
  return out;
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
