import type { KeyedReads } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';
import { countsEach, roomsWithNewCountsEach, type CountKey, type ThreadCounts } from '../storage/push-actions.ts';

export type { CountKey, ThreadCounts };

/** What /sync reads of push: the counts its rooms show, and which rooms' counts moved. */
export interface PushCountReads {
  /** Notify and highlight counts of the user's unread events in the room, per thread ('main' for the room's own). */
  unreadCounts(tx: Tx, key: CountKey): Promise<ThreadCounts[]>;
  /** Rooms whose counts for the user changed in (since, upTo]: shown again even without new events. */
  roomsWithNewCounts(tx: Tx, userId: string, since: number, upTo: number): Promise<string[]>;
}

export function unreadCountsOver(k: KeyedReads): PushCountReads {
  const counts = k.one(
    (c: CountKey) => `${c.roomId}\n${c.userId}\n${c.after}\n${c.upTo}\n${JSON.stringify(c.threadAfter ?? {})}`,
    countsEach,
  );
  const moved = k.one((w: { userId: string; since: number; upTo: number }) => `${w.userId}\n${w.since}\n${w.upTo}`, roomsWithNewCountsEach);
  return {
    unreadCounts: counts,
    roomsWithNewCounts: (tx, userId, since, upTo) => moved(tx, { userId, since, upTo }),
  };
}
