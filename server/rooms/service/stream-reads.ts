import DataLoader from 'dataloader';
import type { Sql, Tx } from '../../db/database.ts';
import { recentEventsEach, type RoomSpan, type StoredEvent } from '../storage/events.ts';
import { countUnreadEach, type UnreadKey } from '../storage/receipts.ts';
import { childrenOf, threadSummaries, threadSummariesEach, type ChildRow, type ThreadSummaryRow } from '../storage/relations.ts';
import { currentStateEventsEach, type StateCell } from '../storage/rooms.ts';

/**
 * The reads a /sync pass makes once per room: the timeline's newest events, the unread count,
 * the viewer's current membership (for history visibility), and the relations the serializer
 * bundles. Direct, each is its own query; batched, the ones asked in the same tick go out as one.
 */
export interface StreamReads {
  recentEvents(tx: Tx, span: RoomSpan & { limit: number }): Promise<StoredEvent[]>;
  countUnread(tx: Tx, key: UnreadKey): Promise<number>;
  currentStateEvent(tx: Tx, cell: StateCell): Promise<string | undefined>;
  /** Unredacted m.replace and m.reference children of the given events. */
  editsAndReferences(tx: Tx, parentIds: readonly string[]): Promise<ChildRow[]>;
  threads(tx: Tx, roots: readonly string[], userId: string): Promise<ThreadSummaryRow[]>;
}

const BUNDLED_REL_TYPES = ['m.replace', 'm.reference'];

/** Each read is its own query, in the caller's transaction. */
export const directReads: StreamReads = {
  recentEvents: async (tx, span) => (await recentEventsEach(tx, [span]))[0]!,
  countUnread: async (tx, key) => (await countUnreadEach(tx, [key]))[0]!,
  currentStateEvent: async (tx, cell) => (await currentStateEventsEach(tx, [cell]))[0],
  editsAndReferences: (tx, parentIds) => childrenOf(tx, parentIds, BUNDLED_REL_TYPES),
  threads: threadSummaries,
};

/** Keys per query: large enough for a big account in one round trip, small enough to keep each query quick. */
const MAX_BATCH = 1_000;

/**
 * The reads through loaders on the pool: the reads asked in one tick (the rooms of a pass, the
 * passes one event woke) go to the database as one query per kind. Outside any transaction,
 * which is how /sync reads; nothing is cached, so a later tick reads afresh.
 */
export function batchedReads(sql: Sql): StreamReads {
  const span = (s: RoomSpan) => `${s.roomId}\n${s.after}\n${s.upTo}`;
  const recent = loader(
    (s: RoomSpan & { limit: number }) => `${span(s)}\n${s.limit}`,
    (keys) => recentEventsEach(sql, keys),
  );
  const unread = loader(
    (k: UnreadKey) => `${span(k)}\n${k.userId}`,
    (keys) => countUnreadEach(sql, keys),
  );
  const state = loader(
    (c: StateCell) => `${c.roomId}\n${c.type}\n${c.stateKey}`,
    (keys) => currentStateEventsEach(sql, keys),
  );
  const children = loader(
    (id: string) => id,
    async (ids) => {
      const byParent = new Map(ids.map((id) => [id, [] as ChildRow[]]));
      for (const c of await childrenOf(sql, ids, BUNDLED_REL_TYPES)) byParent.get(c.relates_to)?.push(c);
      return ids.map((id) => byParent.get(id)!);
    },
  );
  const thread = loader(
    (k: { root: string; userId: string }) => `${k.root}\n${k.userId}`,
    (keys) => threadSummariesEach(sql, keys),
  );
  return {
    recentEvents: (_tx, s) => recent.load(s),
    countUnread: (_tx, k) => unread.load(k),
    currentStateEvent: (_tx, c) => state.load(c),
    editsAndReferences: async (_tx, ids) => (await children.loadMany(ids)).flatMap(rowsOrThrow),
    threads: async (_tx, roots, userId) =>
      (await thread.loadMany(roots.map((root) => ({ root, userId })))).map(rowsOrThrow).filter((t) => t !== undefined),
  };
}

function rowsOrThrow<T>(v: T | Error): T {
  if (v instanceof Error) throw v;
  return v;
}

/** A loader without a cache whose batch function sees each distinct key (by `keyOf`) once. */
function loader<K, V>(keyOf: (k: K) => string, read: (keys: K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(
    async (keys) => {
      const distinct = new Map<string, K>();
      for (const k of keys) if (!distinct.has(keyOf(k))) distinct.set(keyOf(k), k);
      const values = await read([...distinct.values()]);
      const byKey = new Map([...distinct.keys()].map((id, i) => [id, values[i] as V]));
      return keys.map((k) => byKey.get(keyOf(k)) as V);
    },
    { cache: false, maxBatchSize: MAX_BATCH },
  );
}
