import { batchedOn, direct, type KeyedReads } from '../../db/batch.ts';
import type { Sql, Tx } from '../../db/database.ts';
import type { RoomSpan, StoredEvent } from '../storage/events.ts';
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
    const cached = roomState.via(reads.storage);
    const visibility = createVisibility(cached, reads);
    const serializer = createEventSerializer(cached, reads);
    // The ids come from the timeline index; the events, from the cache where it holds them.
    async function recentEvents(tx: Tx, span: RoomSpan & { limit: number }): Promise<StoredEvent[]> {
      const ids = await reads.recentEventIds(tx, span);
      const loaded = await cached.loadEvents(tx, ids);
      return ids.flatMap((id) => loaded.get(id) ?? []);
    }
    const accountDataSince = k.one((a: { userId: string; since: number }) => `${a.userId}\n${a.since}`, userData.accountDataSinceEach);
    const ignoredUsers = k.one((u: string) => u, userData.ignoredUsersEach);
    return {
      memberships: reads.memberships,
      forgotten: reads.forgotten,
      loadEvent: cached.loadEvent,
      loadEvents: cached.loadEvents,
      loadState: cached.loadState,
      recentEvents: (tx, roomId, after, upTo, limit) => recentEvents(tx, { roomId, after, upTo, limit }),
      // The live stream only (positive positions): backfilled events are never /sync's.
      eventAtOrBefore: async (tx, roomId, pos) => (await recentEvents(tx, { roomId, after: 0, upTo: pos, limit: 1 }))[0],
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
      async readPositions(tx, roomIds, userId) {
        const pos = await reads.readPositions(
          tx,
          roomIds.map((roomId) => ({ roomId, userId })),
        );
        return new Map(roomIds.map((roomId, i) => [roomId, pos[i]!] as const));
      },
      accountDataSince: (tx, userId, since) => accountDataSince(tx, { userId, since }),
      ignoredUsers,
      typingSince: typing.changedSince,
      batched: () => over(batchedOn(sql)),
    };
  }
  return over(direct);
}
