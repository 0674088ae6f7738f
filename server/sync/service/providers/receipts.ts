import type { JsonObject } from '../../../../federation/events/pdu.ts';
import type { ReceiptRow } from '../../../rooms/index.ts';
import { blocksAll } from '../../../matrix/index.ts';
import { BLOCKED, groupBy, type RoomStream, type SyncPass } from './pass.ts';

/** m.receipt per joined room: receipts written in the pass's window (all of them on initial sync). */
export async function receiptsProvider(pass: SyncPass, joinedIds: readonly string[]): Promise<RoomStream> {
  if (blocksAll(pass.filter.room?.ephemeral)) return BLOCKED;
  const rows = await pass.src.receiptsSince(pass.sql, joinedIds, pass.since ? pass.sincePos : 0, pass.upTo.pos);
  const byRoom = groupBy(rows, (r) => r.room_id);
  return {
    touched: (roomId) => (byRoom.get(roomId)?.length ?? 0) > 0,
    events(roomId) {
      const content = receiptContent(byRoom.get(roomId) ?? [], pass.viewer.userId);
      return content ? [{ type: 'm.receipt', content }] : [];
    },
  };
}

/** Receipts as the m.receipt content map; private receipts only to their owner. */
function receiptContent(rows: ReceiptRow[], userId: string): JsonObject | undefined {
  const out: Record<string, Record<string, Record<string, JsonObject>>> = {};
  for (const r of rows) {
    if (r.receipt_type === 'm.read.private' && r.user_id !== userId) continue;
    const byType = (out[r.event_id] ??= {});
    const byUser = (byType[r.receipt_type] ??= {});
    byUser[r.user_id] = { ts: r.ts, ...(r.thread_id ? { thread_id: r.thread_id } : {}) };
  }
  return Object.keys(out).length > 0 ? (out as unknown as JsonObject) : undefined;
}
