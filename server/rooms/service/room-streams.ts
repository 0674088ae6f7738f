import type { Sql } from '../../db/database.ts';
import type { Accounts } from '../../accounts/index.ts';
import type { Typing } from '../../notifier/index.ts';
import type { RoomStreams } from '../streams.ts';
import { roomsWithEventsSince } from '../storage/events.ts';
import { forgottenRooms } from '../storage/forgotten.ts';
import { readUpTo, receiptsSince } from '../storage/receipts.ts';
import { membershipsOf } from '../storage/rooms.ts';
import { createEventSerializer } from './event-serializer.ts';
import type { RoomState } from './room-state.ts';
import { batchedReads, directReads, type StreamReads } from './stream-reads.ts';
import { createVisibility } from './visibility.ts';

export interface RoomStreamsDeps {
  sql: Sql;
  roomState: RoomState;
  typing: Typing;
  userData: Pick<Accounts['userData'], 'accountDataSince' | 'ignoredUsers'>;
}

/** What /sync reads of rooms (and of accounts, handed through); `batched()` gives the same over loaders. */
export function createRoomStreams({ sql, roomState, typing, userData }: RoomStreamsDeps): RoomStreams {
  function over(reads: StreamReads): RoomStreams {
    const visibility = createVisibility(roomState, reads);
    const serializer = createEventSerializer(roomState, reads);
    return {
      memberships: membershipsOf,
      forgotten: forgottenRooms,
      loadEvent: roomState.loadEvent,
      loadEvents: roomState.loadEvents,
      loadState: roomState.loadState,
      recentEvents: (tx, roomId, after, upTo, limit) => reads.recentEvents(tx, { roomId, after, upTo, limit }),
      // The live stream only (positive positions): backfilled events are never /sync's.
      eventAtOrBefore: async (tx, roomId, pos) => (await reads.recentEvents(tx, { roomId, after: 0, upTo: pos, limit: 1 }))[0],
      roomsWithEventsSince,
      filterVisible: visibility.filter,
      serialize: (tx, events, viewer, bundle) => serializer.serialize(tx, events, viewer, { bundle: bundle ?? true }),
      receiptsSince,
      readUpTo,
      countUnread: (tx, roomId, userId, after, upTo) => reads.countUnread(tx, { roomId, userId, after, upTo }),
      accountDataSince: userData.accountDataSince,
      ignoredUsers: userData.ignoredUsers,
      typingSince: typing.changedSince,
      batched: () => over(batchedReads(sql)),
    };
  }
  return over(directReads);
}
