import { direct, type KeyedReads } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';
import { eventsEach, hasEventsEach, recentEventIdsEach, type RoomSpan } from '../storage/events.ts';
import { forgottenRoomsEach } from '../storage/forgotten.ts';
import { readPositionsEach, receiptsEach, type ReaderInRoom, type ReceiptRow } from '../storage/receipts.ts';
import { childrenOf, threadSummariesEach, type ChildRow, type ThreadSummaryRow } from '../storage/relations.ts';
import { currentStateEventsEach, membershipsEach, type MembershipRow, type StateCell } from '../storage/rooms.ts';
import { stateGroupsEach } from '../storage/state.ts';
import type { StorageFetch } from './room-state.ts';

/**
 * The reads a /sync pass makes: once per user (memberships, forgotten rooms) and once per room
 * (the ids of the timeline's newest events, whether there are any, receipts, the unread count
 * and where the user read up to, the viewer's current membership for history visibility, and
 * the relations the serializer bundles), and what the event and state caches miss. Direct, each
 * is its own query; batched, the ones asked in the same tick (the rooms of a pass, the passes one
 * event woke) go out as one per kind.
 */
export interface StreamReads {
  memberships(tx: Tx, userId: string): Promise<MembershipRow[]>;
  forgotten(tx: Tx, userId: string): Promise<Set<string>>;
  recentEventIds(tx: Tx, span: RoomSpan & { limit: number }): Promise<string[]>;
  hasEvents(tx: Tx, spans: readonly RoomSpan[]): Promise<boolean[]>;
  receipts(tx: Tx, spans: readonly RoomSpan[]): Promise<ReceiptRow[][]>;
  readPositions(tx: Tx, keys: readonly ReaderInRoom[]): Promise<Record<string, number>[]>;
  currentStateEvent(tx: Tx, cell: StateCell): Promise<string | undefined>;
  /** Unredacted m.replace and m.reference children of the given events. */
  editsAndReferences(tx: Tx, parentIds: readonly string[]): Promise<ChildRow[]>;
  threads(tx: Tx, roots: readonly string[], userId: string): Promise<ThreadSummaryRow[]>;
  /** Misses of the event and state-group caches. */
  storage: StorageFetch;
}

const BUNDLED_REL_TYPES = ['m.replace', 'm.reference'];

const spanKey = (s: RoomSpan) => `${s.roomId}\n${s.after}\n${s.upTo}`;
const same = (k: string) => k;

export function streamReads(k: KeyedReads): StreamReads {
  const children = k.many(same, async (tx, ids: string[]) => {
    const byParent = new Map(ids.map((id) => [id, [] as ChildRow[]]));
    for (const c of await childrenOf(tx, ids, BUNDLED_REL_TYPES)) byParent.get(c.relates_to)?.push(c);
    return ids.map((id) => byParent.get(id)!);
  });
  const thread = k.many((t: { root: string; userId: string }) => `${t.root}\n${t.userId}`, threadSummariesEach);
  return {
    memberships: k.one(same, membershipsEach),
    forgotten: k.one(same, forgottenRoomsEach),
    recentEventIds: k.one((s) => `${spanKey(s)}\n${s.limit}`, recentEventIdsEach),
    hasEvents: k.many(spanKey, hasEventsEach),
    receipts: k.many(spanKey, receiptsEach),
    readPositions: k.many((r) => `${r.roomId}\n${r.userId}`, readPositionsEach),
    currentStateEvent: k.one((c) => `${c.roomId}\n${c.type}\n${c.stateKey}`, currentStateEventsEach),
    editsAndReferences: async (tx, ids) => (await children(tx, ids)).flat(),
    threads: async (tx, roots, userId) =>
      (
        await thread(
          tx,
          roots.map((root) => ({ root, userId })),
        )
      ).filter((t) => t !== undefined),
    storage: { events: k.many(same, eventsEach), stateGroup: k.one(String, stateGroupsEach) },
  };
}

/** Each read is its own query, in the caller's transaction. */
export const directReads: StreamReads = streamReads(direct);
