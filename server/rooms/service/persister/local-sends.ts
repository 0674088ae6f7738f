import { Histogram, type Registry } from 'prom-client';
import type { Sql, Tx } from '../../../db/database.ts';
import { nextStreamPositions } from '../../../db/stream.ts';
import { transaction } from '../../../db/transaction.ts';
import { MatrixError } from '../../../http/matrix-error.ts';
import { getForwardExtremities } from '../../storage/dag.ts';
import type { StoredEvent } from '../../storage/events.ts';
import { getTxnEvents, txnKeyString } from '../../storage/rooms.ts';
import type { RoomLocks } from '../room-lock.ts';
import { extremitiesAfterLocal } from './build-local.ts';
import { createSendQueue, type Settled } from './send-queue.ts';
import { txnKeyOfEvent, type NewEvent, type PreparedLocal } from './types.ts';

/** Sends to one room written in one transaction at most (a batch holds the room's lock while it is written). */
const MAX_SEND_BATCH = 32;

export interface LocalSendDeps {
  sql: Sql;
  withRoomLock: RoomLocks;
  lockRoom(tx: Tx, roomId: string): Promise<unknown>;
  /** Builds and checks an event, writing nothing; `known` is what the batch already read for it. */
  prepare(
    tx: Tx,
    ev: NewEvent,
    pending: ReadonlyMap<string, StoredEvent>,
    known?: { extremityIds: readonly string[]; existing: string | undefined; streamPos: number },
  ): Promise<PreparedLocal>;
  /** Sends an event's writes; `written` settles when they are done. */
  store(tx: Tx, prepared: Exclude<PreparedLocal, { existing: StoredEvent }>): Promise<{ events: StoredEvent[]; written: Promise<unknown> }>;
  /** prepare and store, for one event in a transaction of its own. */
  append(tx: Tx, ev: NewEvent): Promise<StoredEvent[]>;
  /** After commit. */
  committed(events: StoredEvent[]): Promise<void>;
  registry?: Registry;
}

/**
 * Local sends, with group commit per room (`createSendQueue`): the sends that
 * queued behind a room's write go in the next transaction together.
 */
export function createLocalSends(deps: LocalSendDeps): (ev: NewEvent) => Promise<StoredEvent> {
  const { sql, withRoomLock, lockRoom } = deps;
  const batchSizes = new Histogram({
    name: 'commcomms_send_batch_events',
    help: "Local sends written together in one transaction (a room's sends that queued while it was being written)",
    buckets: [1, 2, 4, 8, 16, MAX_SEND_BATCH],
    registers: deps.registry ? [deps.registry] : [],
  });

  /** One send in a transaction of its own. */
  async function sendAlone(ev: NewEvent): Promise<StoredEvent> {
    const written = await withRoomLock(ev.roomId, () =>
      transaction(sql, async (tx) => {
        // Awaited on its own (it goes out with BEGIN): a read sent with it could be run
        // first, as which of several pending queries the driver sends first is an
        // accident of how each was awaited.
        await lockRoom(tx, ev.roomId);
        return deps.append(tx, ev);
      }),
    );
    await deps.committed(written);
    return written[0]!;
  }

  /**
   * A batch of a room's sends in one transaction. A send refused before it wrote
   * anything (a MatrixError from `prepare`) fails alone and the others go on; any
   * other failure rolls the batch back, and each send is then tried again in a
   * transaction of its own, so that one bad send only fails itself.
   */
  async function sendBatch(roomId: string, evs: NewEvent[]): Promise<Array<Settled<StoredEvent>>> {
    batchSizes.observe(evs.length);
    if (evs.length === 1) return [await settle(sendAlone(evs[0]!))];
    let batch: { outcomes: Array<Settled<StoredEvent>>; written: StoredEvent[] };
    try {
      batch = await withRoomLock(roomId, () => transaction(sql, (tx) => writeBatch(tx, roomId, evs)));
    } catch {
      return Promise.all(evs.map((ev) => settle(sendAlone(ev))));
    }
    await deps.committed(batch.written);
    return batch.outcomes;
  }

  async function writeBatch(
    tx: Tx,
    roomId: string,
    evs: NewEvent[],
  ): Promise<{ outcomes: Array<Settled<StoredEvent>>; written: StoredEvent[] }> {
    await lockRoom(tx, roomId);
    // What every event of the batch needs read, in one round trip; then the batch
    // itself knows what changes as it writes (it holds the room's lock).
    const keys = evs.map(txnKeyOfEvent);
    const [extremitiesBefore, txns, positions] = await Promise.all([
      getForwardExtremities(tx, roomId),
      getTxnEvents(
        tx,
        keys.filter((k) => k !== undefined),
      ),
      nextStreamPositions(tx, evs.length),
    ]);
    let extremityIds = extremitiesBefore;
    // Each event's writes are sent, not awaited: the next event is built from what the
    // batch knows while they run, and its writes follow them on the connection.
    const inFlight: Array<Promise<void>> = [];
    let failed: { error: unknown } | undefined;
    const pending = new Map<string, StoredEvent>();
    const outcomes: Array<Settled<StoredEvent>> = [];
    for (const [i, ev] of evs.entries()) {
      const key = keys[i] && txnKeyString(keys[i]);
      let prepared: PreparedLocal;
      try {
        prepared = await deps.prepare(tx, ev, pending, {
          extremityIds,
          existing: key === undefined ? undefined : txns.get(key),
          streamPos: positions[i]!,
        });
      } catch (error) {
        if (!(error instanceof MatrixError)) throw error;
        outcomes.push({ error });
        continue;
      }
      if ('existing' in prepared) {
        outcomes.push({ value: prepared.existing });
        continue;
      }
      const { events, written: done } = await deps.store(tx, prepared);
      // Handled at once (a failure must not go unhandled while later events are built).
      inFlight.push(
        done.then(
          () => undefined,
          (error: unknown) => void (failed ??= { error }),
        ),
      );
      for (const e of events) pending.set(e.pdu.event_id, e);
      outcomes.push({ value: events[0]! });
      extremityIds = extremitiesAfterLocal(extremityIds, prepared.pdu);
      if (key !== undefined) txns.set(key, prepared.pdu.event_id);
    }
    await Promise.all(inFlight);
    if (failed) throw failed.error;
    return { outcomes, written: [...pending.values()] };
  }

  const enqueue = createSendQueue(sendBatch, MAX_SEND_BATCH);
  return (ev) => enqueue(ev.roomId, ev);
}

function settle<R>(p: Promise<R>): Promise<Settled<R>> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}
