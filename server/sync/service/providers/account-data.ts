import type { JsonObject } from '../../../../federation/events/pdu.ts';
import { blocksAll, matchesFilter } from '../../../matrix/index.ts';
import { BLOCKED, groupBy, type RoomStream, type SyncPass } from './pass.ts';

export interface AccountDataSections {
  /** Global account data (room_id ''), already filtered. */
  global: JsonObject[];
  /** Per-room account data for joined rooms. */
  rooms: RoomStream;
}

/** Global and per-room account data changed after `since` and at or before the pass's upTo. */
export async function accountDataProvider(pass: SyncPass): Promise<AccountDataSections> {
  const { filter, upTo, viewer } = pass;
  const globalBlocked = blocksAll(filter.account_data);
  const roomsBlocked = blocksAll(filter.room?.account_data);
  if (globalBlocked && roomsBlocked) return { global: [], rooms: BLOCKED };
  const rows = (await pass.src.accountDataSince(pass.sql, viewer.userId, pass.since ? pass.sincePos : 0)).filter(
    (a) => a.stream_pos <= upTo.pos,
  );
  const byRoom = groupBy(
    rows.filter((a) => a.room_id !== ''),
    (a) => a.room_id,
  );
  return {
    global: globalBlocked
      ? []
      : rows
          .filter((a) => a.room_id === '')
          .filter((a) => matchesFilter(filter.account_data, { type: a.type, sender: viewer.userId, content: a.content }))
          .map((a) => ({ type: a.type, content: a.content })),
    rooms: roomsBlocked
      ? BLOCKED
      : {
          touched: (roomId) => (byRoom.get(roomId)?.length ?? 0) > 0,
          events: (roomId) =>
            (byRoom.get(roomId) ?? [])
              .filter((a) => matchesFilter(filter.room?.account_data, a as never, roomId))
              .map((a) => ({ type: a.type, content: a.content })),
        },
  };
}
