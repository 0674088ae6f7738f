import { batchedOn, direct, type KeyedReads } from '../../db/batch.ts';
import type { Sql } from '../../db/database.ts';
import type { Accounts } from '../../accounts/index.ts';
import type { Typing } from '../../notifier/index.ts';
import type { RoomStreams } from '../streams.ts';
import { createEventSerializer } from './event-serializer.ts';
import type { RoomState } from './room-state.ts';
import { streamReads } from './stream-reads.ts';
import { createVisibility } from './visibility.ts';

export interface RoomStreamsDeps {
  sql: Sql;
  roomState: RoomState;
  typing: Typing;
  userData: Pick<Accounts['userData'], 'accountDataSinceEach' | 'ignoredUsersEach'>;
}

/** What /sync reads of rooms (and of accounts, handed through); `batched()` gives the same over loaders. */
export function createRoomStreams({ sql, roomState, typing, userData }: RoomStreamsDeps): RoomStreams {
  function over(k: KeyedReads): RoomStreams {
    const reads = streamReads(k);
    const visibility = createVisibility(roomState, reads);
    const serializer = createEventSerializer(roomState, reads);
    const accountDataSince = k.one((a: { userId: string; since: number }) => `${a.userId}\n${a.since}`, userData.accountDataSinceEach);
    const ignoredUsers = k.one((u: string) => u, userData.ignoredUsersEach);
    return {
      memberships: reads.memberships,
      forgotten: reads.forgotten,
      loadEvent: roomState.loadEvent,
      loadEvents: roomState.loadEvents,
      loadState: roomState.loadState,
      recentEvents: (tx, roomId, after, upTo, limit) => reads.recentEvents(tx, { roomId, after, upTo, limit }),
      // The live stream only (positive positions): backfilled events are never /sync's.
      eventAtOrBefore: async (tx, roomId, pos) => (await reads.recentEvents(tx, { roomId, after: 0, upTo: pos, limit: 1 }))[0],
      async roomsWithEventsSince(tx, roomIds, after, upTo) {
        const has = await reads.hasEvents(
          tx,
          roomIds.map((roomId) => ({ roomId, after, upTo })),
        );
        return roomIds.filter((_, i) => has[i]);
      },
      filterVisible: visibility.filter,
      serialize: (tx, events, viewer, bundle) => serializer.serialize(tx, events, viewer, { bundle: bundle ?? true }),
      receiptsSince: async (tx, roomIds, after, upTo) =>
        (
          await reads.receipts(
            tx,
            roomIds.map((roomId) => ({ roomId, after, upTo })),
          )
        ).flat(),
      async readUpTo(tx, roomIds, userId) {
        const pos = await reads.readUpTo(
          tx,
          roomIds.map((roomId) => ({ roomId, userId })),
        );
        return new Map(roomIds.flatMap((roomId, i) => (pos[i] === undefined ? [] : [[roomId, pos[i]] as const])));
      },
      countUnread: (tx, roomId, userId, after, upTo) => reads.countUnread(tx, { roomId, userId, after, upTo }),
      accountDataSince: (tx, userId, since) => accountDataSince(tx, { userId, since }),
      ignoredUsers,
      typingSince: typing.changedSince,
      batched: () => over(batchedOn(sql)),
    };
  }
  return over(direct);
}
