import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { insertReport } from '../storage/reports.ts';
import { getRoom } from '../storage/rooms.ts';
import type { RoomState } from './room-state.ts';
import type { Visibility } from './visibility.ts';

/** Reports of events and rooms, kept for the server's moderators. */
export function createReports({ sql, roomState, visibility }: { sql: Sql; roomState: RoomState; visibility: Visibility }) {
  return {
    /** The reporter must be joined and able to see the (unredacted) event; otherwise it is "not found". */
    async reportEvent(userId: string, roomId: string, eventId: string, reason: string | null, score: number | null): Promise<void> {
      const notFound = new MatrixError(404, 'M_NOT_FOUND', 'The event was not found or you are not joined to the room.');
      if ((await visibility.currentMembership(sql, roomId, userId)) !== 'join') throw notFound;
      const e = await roomState.loadEvent(sql, eventId);
      if (!e || e.roomId !== roomId || e.redactedBy !== null || !(await visibility.canSeeEvent(sql, userId, e))) throw notFound;
      await insertReport(sql, { roomId, eventId, userId, reason, score });
    },

    /** Anyone may report a room they know of, joined or not (spec v1.13). */
    async reportRoom(userId: string, roomId: string, reason: string): Promise<void> {
      if (!(await getRoom(sql, roomId))) throw new MatrixError(404, 'M_NOT_FOUND', 'The room was not found.');
      await insertReport(sql, { roomId, eventId: null, userId, reason, score: null });
    },
  };
}

export type Reports = ReturnType<typeof createReports>;
