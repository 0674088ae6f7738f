import type { Tx } from '../../db/database.ts';

export interface NewReport {
  roomId: string;
  /** null for a report of the whole room. */
  eventId: string | null;
  userId: string;
  reason: string | null;
  score: number | null;
}

export async function insertReport(tx: Tx, r: NewReport): Promise<number> {
  const [row] = await tx<{ id: number }[]>`
    insert into event_reports (room_id, event_id, user_id, reason, score)
    values (${r.roomId}, ${r.eventId}, ${r.userId}, ${r.reason}, ${r.score})
    returning id`;
  return row!.id;
}
