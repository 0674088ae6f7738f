import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { notificationsOf } from '../storage/push-actions.ts';

export interface NotificationsDeps {
  sql: Sql;
  /** Rooms: the event as the user may see it; throws (404) when they may not. */
  eventForUser: (userId: string, roomId: string, eventId: string) => Promise<object>;
  /** Rooms: the user's read receipt positions in each room, by thread. */
  readPositions: (userId: string, roomIds: readonly string[]) => Promise<Map<string, Record<string, number>>>;
}

const MAX_LIMIT = 100;

/** GET /notifications: the events that notified the user, newest first, paged by position. */
export function createNotifications({ sql, eventForUser, readPositions }: NotificationsDeps) {
  return {
    async list(userId: string, opts: { from?: string | undefined; limit?: string | undefined; only?: string | undefined }) {
      let before: number | undefined;
      if (opts.from !== undefined) {
        if (!/^\d{1,16}$/.test(opts.from)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid from token');
        before = Number(opts.from);
      }
      let limit = 20;
      if (opts.limit !== undefined) {
        if (!/^\d{1,9}$/.test(opts.limit)) throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must be a non-negative integer');
        limit = Math.min(MAX_LIMIT, Number(opts.limit));
      }
      const rows = await notificationsOf(sql, userId, { before, limit, onlyHighlight: opts.only === 'highlight' });
      const read = await readPositions(userId, [...new Set(rows.map((r) => r.room_id))]);
      const notifications: JsonObject[] = [];
      for (const r of rows) {
        const event = await eventForUser(userId, r.room_id, r.event_id).catch(() => undefined);
        if (!event) continue;
        const receipts = read.get(r.room_id) ?? {};
        const readUpTo = Math.max(receipts[''] ?? 0, receipts[r.thread_id] ?? 0);
        notifications.push({
          actions: JSON.parse(r.actions) as JsonObject,
          event,
          read: r.event_pos <= readUpTo,
          room_id: r.room_id,
          ts: Number(r.ts),
        } as unknown as JsonObject);
      }
      const last = rows.at(-1);
      return { notifications, ...(rows.length === limit && last ? { next_token: String(last.event_pos) } : {}) };
    },
  };
}
export type Notifications = ReturnType<typeof createNotifications>;
