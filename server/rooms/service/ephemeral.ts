import { transaction } from '../../db/transaction.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql, Tx } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Notifier } from '../../notifier/index.ts';
import type { Typing } from '../../notifier/index.ts';
import type { StoredEvent } from '../storage/events.ts';
import { receiptEventPosition, upsertReceipt } from '../storage/receipts.ts';
import { threadSummaries } from '../storage/relations.ts';
import { relationOf } from './persister/index.ts';
import type { RoomState } from './room-state.ts';
import type { Visibility } from './visibility.ts';

export type ReceiptType = 'm.read' | 'm.read.private';

/** Unthreaded receipts are stored with thread '' (the receipts table's default). */
export const UNTHREADED = '';

export interface EphemeralDeps {
  sql: Sql;
  notifier: Notifier;
  typing: Typing;
  roomState: RoomState;
  visibility: Visibility;
  /** Accounts' locked read-modify-write of account data (m.fully_read is room account data). */
  updateAccountData: (
    userId: string,
    roomId: string,
    type: string,
    update: (current: JsonObject | undefined, tx: Tx) => Promise<JsonObject | undefined>,
  ) => Promise<number | undefined>;
}

export interface ReadMarkers {
  fullyRead?: string | undefined;
  read?: string | undefined;
  readPrivate?: string | undefined;
}

/** How far the spec follows relations to decide whether an event is in a thread. */
const THREAD_HOPS = 3;

/**
 * Typing notices, read receipts and the fully-read marker: what members say
 * about their reading of a room, outside the event graph.
 */
export function createEphemeral({ sql, notifier, typing, roomState, visibility, updateAccountData }: EphemeralDeps) {
  async function requireJoined(tx: Tx, roomId: string, userId: string): Promise<void> {
    if ((await visibility.currentMembership(tx, roomId, userId)) !== 'join')
      throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
  }

  async function targetEvent(tx: Tx, userId: string, roomId: string, eventId: string): Promise<StoredEvent> {
    const e = await roomState.loadEvent(tx, eventId);
    if (!e || e.roomId !== roomId || !(await visibility.canSeeEvent(tx, userId, e)))
      throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
    return e;
  }

  /** The thread root an event belongs to, following relations up to an m.thread one. */
  async function threadOf(tx: Tx, e: StoredEvent): Promise<string | undefined> {
    let current: StoredEvent | undefined = e;
    for (let hop = 0; hop < THREAD_HOPS && current; hop++) {
      const rel = relationOf(current.pdu.content);
      if (!rel) return undefined;
      if (rel.relType === 'm.thread') return rel.eventId;
      current = await roomState.loadEvent(tx, rel.eventId);
    }
    return undefined;
  }

  /** A threaded receipt must name `main` for a main-timeline event, or the root of the event's thread. */
  async function checkThread(tx: Tx, userId: string, e: StoredEvent, threadId: string): Promise<void> {
    if (threadId === UNTHREADED) return;
    const inThread = await threadOf(tx, e);
    if (threadId === 'main') {
      if (inThread !== undefined) throw new MatrixError(400, 'M_INVALID_PARAM', 'The event is in a thread, not in the main timeline');
      return;
    }
    const root = await roomState.loadEvent(tx, threadId);
    const [summary] = root && root.roomId === e.roomId ? await threadSummaries(tx, [threadId], userId) : [];
    if (!summary) throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id is not a thread root in this room');
    if (e.pdu.event_id !== threadId && inThread !== threadId)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'The event is not in that thread');
  }

  /** Stores a receipt unless the user's receipt of that type already points at this event or a later one. */
  async function putReceipt(userId: string, e: StoredEvent, type: ReceiptType, threadId: string): Promise<void> {
    const pos = await transaction(sql, async (tx) => {
      const current = await receiptEventPosition(tx, e.roomId, type, userId, threadId);
      if (current !== undefined && current >= e.streamPos) return undefined;
      const p = await nextStreamPosition(tx);
      await upsertReceipt(
        tx,
        { room_id: e.roomId, receipt_type: type, user_id: userId, thread_id: threadId, event_id: e.pdu.event_id, ts: Date.now() },
        p,
      );
      return p;
    });
    if (pos === undefined) return;
    // A private receipt concerns its owner alone.
    notifier.notify(type === 'm.read' ? { pos, roomId: e.roomId } : { pos, userIds: [userId] });
  }

  /** m.fully_read is room account data; like receipts it only moves forwards. */
  async function putFullyRead(userId: string, e: StoredEvent): Promise<void> {
    await updateAccountData(userId, e.roomId, 'm.fully_read', async (current, tx) => {
      const previous = typeof current?.event_id === 'string' ? await roomState.loadEvent(tx, current.event_id) : undefined;
      if (previous && previous.streamPos >= e.streamPos) return undefined;
      return { event_id: e.pdu.event_id };
    });
  }

  return {
    async setTyping(userId: string, roomId: string, isTyping: boolean, timeoutMs: number): Promise<void> {
      await requireJoined(sql, roomId, userId);
      await typing.set(roomId, userId, isTyping, timeoutMs);
    },

    async sendReceipt(
      userId: string,
      roomId: string,
      type: ReceiptType | 'm.fully_read',
      eventId: string,
      threadId: string = UNTHREADED,
    ): Promise<void> {
      if (type === 'm.fully_read' && threadId !== UNTHREADED)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id cannot be used with m.fully_read');
      await requireJoined(sql, roomId, userId);
      const e = await targetEvent(sql, userId, roomId, eventId);
      if (type === 'm.fully_read') return putFullyRead(userId, e);
      await checkThread(sql, userId, e, threadId);
      await putReceipt(userId, e, type, threadId);
    },

    async setReadMarkers(userId: string, roomId: string, markers: ReadMarkers): Promise<void> {
      await requireJoined(sql, roomId, userId);
      // Every event is checked before anything is written.
      const load = (id: string | undefined) => (id === undefined ? undefined : targetEvent(sql, userId, roomId, id));
      const [fullyRead, read, readPrivate] = await Promise.all([load(markers.fullyRead), load(markers.read), load(markers.readPrivate)]);
      if (fullyRead) await putFullyRead(userId, fullyRead);
      if (read) await putReceipt(userId, read, 'm.read', UNTHREADED);
      if (readPrivate) await putReceipt(userId, readPrivate, 'm.read.private', UNTHREADED);
    },
  };
}

export type Ephemeral = ReturnType<typeof createEphemeral>;
