import { transaction } from '../../db/transaction.ts';
import { checkEventAuth, checkRedactionApplies, redactionTarget, selectAuthEvents } from '../../../federation/auth/index.ts';
import {
  describePduLimitProblem,
  hashAndSignEvent,
  pduLimitProblem,
  redactEvent,
  roomIdFromCreateEvent,
  type SigningKey,
} from '../../../federation/events/index.ts';
import type { PduDraft } from '../../../federation/events/event-json.ts';
import type { JsonObject, Pdu } from '../../../federation/events/pdu.ts';
import { roomVersion, type RoomVersion } from '../../../federation/room-versions.ts';
import type { Sql, Tx } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Change, Notifier } from '../../sync/notifier.ts';
import { insertEvent, setRedacted, type StoredEvent } from '../storage/events.ts';
import {
  getForwardExtremities,
  getRoom,
  getTxnEvent,
  insertRoom,
  insertTxn,
  setForwardExtremities,
  upsertCurrentState,
} from '../storage/rooms.ts';
import { unforgetRoom } from '../storage/forgotten.ts';
import { createStateGroup, loadStateGroup, stateGroupChainLen } from '../storage/state.ts';
import type { RoomLocks } from './room-lock.ts';
import type { RoomState } from './room-state.ts';

export interface NewEvent {
  roomId: string;
  type: string;
  stateKey?: string;
  content: JsonObject;
  sender: string;
  /** v10 puts `redacts` at the top level; v11+ in content. Give it here for either. */
  redacts?: string;
  /**
   * The client's transaction: `txnId` is echoed to the sending device; `key` (default: txnId)
   * is what makes a retry idempotent. Per the spec a retry is the same txnId on the same
   * path, so callers put the path's variable parts (room, event type, target) in `key`.
   */
  txn?: { deviceId: string; txnId: string; key?: string };
}

export interface EventWriterDeps {
  sql: Sql;
  serverName: string;
  signingKey: SigningKey;
  roomState: RoomState;
  notifier: Notifier;
  withRoomLock: RoomLocks;
}

/**
 * Builds, signs, authorises and persists local events. Each event and its effects
 * (state group, current state, relation projection, stream position) commit in
 * one transaction, under the room's lock.
 */
export function createEventWriter(deps: EventWriterDeps) {
  const { sql, serverName, signingKey, roomState, notifier, withRoomLock } = deps;

  /** Appends one event inside `tx`; the room lock must be held. */
  async function append(tx: Tx, ev: NewEvent, version: RoomVersion): Promise<StoredEvent> {
    await tx`select pg_advisory_xact_lock(hashtextextended(${ev.roomId}, 0))`;
    const prevIds = await getForwardExtremities(tx, ev.roomId);
    const prevEvents = [...(await roomState.loadEvents(tx, prevIds)).values()];
    if (prevEvents.length === 0) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    // Local rooms have one extremity; several arrive with federation, which will resolve them first.
    const parent = prevEvents.reduce((a, b) => (b.streamPos > a.streamPos ? b : a));
    const before = await roomState.loadState(tx, parent.stateGroup);

    const draft: PduDraft = {
      room_id: ev.roomId,
      sender: ev.sender,
      type: ev.type,
      ...(ev.stateKey !== undefined ? { state_key: ev.stateKey } : {}),
      content: ev.content,
      origin_server_ts: Date.now(),
      depth: Math.min(Math.max(...prevEvents.map((e) => e.pdu.depth)) + 1, Number.MAX_SAFE_INTEGER),
      prev_events: prevEvents.map((e) => e.pdu.event_id),
      auth_events: [],
      ...(version.updatedRedactionRules ? {} : { origin: serverName }),
      ...(ev.redacts !== undefined && !version.updatedRedactionRules ? { redacts: ev.redacts } : {}),
    };
    draft.auth_events = selectAuthEvents(draft, before.get, version).map((e) => e.event_id);
    return persist(tx, ev.roomId, draft, version, before, parent.stateGroup, ev.txn);
  }

  async function persist(
    tx: Tx,
    roomId: string,
    draft: PduDraft,
    version: RoomVersion,
    before: { get(type: string, key: string): Pdu | undefined },
    groupBefore: number | null,
    txn: NewEvent['txn'],
  ): Promise<StoredEvent> {
    refuseOverLimits(draft);
    const pdu = hashAndSignEvent(draft, version, serverName, signingKey);
    refuseOverLimits(pdu);
    const verdict = checkEventAuth(pdu, before.get, version);
    if (!verdict.allowed) throw new MatrixError(403, 'M_FORBIDDEN', verdict.reason);

    let stateGroup = groupBefore;
    const isState = pdu.state_key !== undefined;
    if (isState) {
      const replaced = before.get(pdu.type, pdu.state_key!);
      if (replaced) pdu.unsigned = { ...(pdu.unsigned ?? {}), replaces_state: replaced.event_id };
      const prev = groupBefore === null ? null : { id: groupBefore, chainLen: await stateGroupChainLen(tx, groupBefore) };
      stateGroup = await createStateGroup(tx, roomId, prev, [{ type: pdu.type, state_key: pdu.state_key!, event_id: pdu.event_id }], () =>
        loadStateGroup(tx, groupBefore!),
      );
    }

    const rel = relationOf(pdu.content);
    const streamPos = await nextStreamPosition(tx);
    const stored: StoredEvent = {
      roomId,
      pdu,
      streamPos,
      stateGroup: stateGroup!,
      stateGroupBefore: groupBefore,
      redactedBy: null,
      txnId: txn?.txnId ?? null,
      deviceId: txn?.deviceId ?? null,
    };
    await insertEvent(tx, {
      roomId,
      pdu,
      streamPos,
      stateGroup: stateGroup!,
      stateGroupBefore: groupBefore,
      relatesTo: rel?.eventId ?? null,
      relType: rel?.relType ?? null,
      aggregationKey: rel?.key ?? null,
      threadId: rel?.relType === 'm.thread' ? rel.eventId : null,
      txnId: txn?.txnId ?? null,
      deviceId: txn?.deviceId ?? null,
    });
    if (txn) await insertTxn(tx, pdu.sender, txn.deviceId, txn.key ?? txn.txnId, pdu.event_id);
    if (isState) {
      const membership = pdu.type === 'm.room.member' && typeof pdu.content.membership === 'string' ? pdu.content.membership : null;
      await upsertCurrentState(tx, roomId, { type: pdu.type, stateKey: pdu.state_key!, eventId: pdu.event_id, membership, streamPos });
      if (membership !== null) await unforgetRoom(tx, pdu.state_key!, roomId);
    }
    await setForwardExtremities(tx, roomId, [pdu.event_id]);
    if (pdu.type === 'm.room.redaction') await applyRedaction(tx, pdu, version, before);
    return stored;
  }

  async function applyRedaction(
    tx: Tx,
    redaction: Pdu,
    version: RoomVersion,
    state: { get(type: string, key: string): Pdu | undefined },
  ): Promise<void> {
    const targetId = redactionTarget(redaction, version);
    if (!targetId) return;
    const target = await roomState.loadEvent(tx, targetId);
    if (!target || target.redactedBy) return;
    if (!checkRedactionApplies(redaction, target.pdu, state.get, version).allowed) return;
    const { event_id: _id, ...pruned } = redactEvent(target.pdu, version);
    await setRedacted(tx, targetId, redaction.event_id, pruned);
    roomState.forget(targetId);
  }

  function changeOf(e: StoredEvent): Change {
    // A membership change also concerns its target, who may not be in the room yet.
    const userIds = e.pdu.type === 'm.room.member' && e.pdu.state_key ? [e.pdu.state_key] : undefined;
    return { pos: e.streamPos, roomId: e.roomId, ...(userIds ? { userIds } : {}) };
  }

  return {
    /** Send one event into an existing room. Idempotent per (sender, device, txn key). */
    async send(ev: NewEvent): Promise<StoredEvent> {
      if (ev.txn) {
        const existing = await getTxnEvent(sql, ev.sender, ev.txn.deviceId, ev.txn.key ?? ev.txn.txnId);
        if (existing) return (await roomState.loadEvent(sql, existing))!;
      }
      const stored = await withRoomLock(ev.roomId, () =>
        transaction(sql, async (tx) => {
          if (ev.txn) {
            const existing = await getTxnEvent(tx, ev.sender, ev.txn.deviceId, ev.txn.key ?? ev.txn.txnId);
            if (existing) return (await roomState.loadEvent(tx, existing))!;
          }
          const room = await getRoom(tx, ev.roomId);
          if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
          return append(tx, ev, roomVersion(room.room_version)!);
        }),
      );
      roomState.remember(stored);
      notifier.notify(changeOf(stored));
      return stored;
    },

    /**
     * Create a room: the create event and the initial state, all in one
     * transaction, so a crash never leaves half a room.
     */
    async createRoom(
      creator: string,
      version: RoomVersion,
      createContent: JsonObject,
      roomIdForOldVersions: string,
      meta: { isPublic: boolean; roomType: string | null },
      then: Array<Omit<NewEvent, 'roomId'>>,
      /** More writes that must commit with the room (e.g. its alias). */
      alsoInTx?: (tx: Tx, roomId: string) => Promise<void>,
    ): Promise<{ roomId: string; events: StoredEvent[] }> {
      const result = await transaction(sql, async (tx) => {
        const createDraft: PduDraft = {
          ...(version.roomIdFromCreateEvent ? {} : { room_id: roomIdForOldVersions }),
          sender: creator,
          type: 'm.room.create',
          state_key: '',
          content: createContent,
          origin_server_ts: Date.now(),
          depth: 1,
          prev_events: [],
          auth_events: [],
          ...(version.updatedRedactionRules ? {} : { origin: serverName }),
        };
        let roomId = roomIdForOldVersions;
        refuseOverLimits(createDraft);
        if (version.roomIdFromCreateEvent) {
          const signed = hashAndSignEvent(createDraft, version, serverName, signingKey);
          roomId = roomIdFromCreateEvent(signed, version);
        }
        await insertRoom(tx, { roomId, version: version.id, creator, isPublic: meta.isPublic, roomType: meta.roomType });
        const createStored = await persistCreate(tx, createDraft, version, roomId);
        const events = [createStored];
        for (const ev of then) events.push(await append(tx, { ...ev, roomId }, version));
        await alsoInTx?.(tx, roomId);
        return { roomId, events };
      });
      for (const e of result.events) roomState.remember(e);
      for (const e of result.events) notifier.notify(changeOf(e));
      return result;
    },
  };

  /** The create event has no state before it; v12 rooms take their id from it and omit room_id. */
  async function persistCreate(tx: Tx, draft: PduDraft, version: RoomVersion, roomId: string): Promise<StoredEvent> {
    await tx`select pg_advisory_xact_lock(hashtextextended(${roomId}, 0))`;
    const stored = await persist(tx, roomId, draft, version, { get: () => undefined }, null, undefined);
    return stored;
  }
}

export type EventWriter = ReturnType<typeof createEventWriter>;

/**
 * The spec's size limits and canonical JSON, checked on the draft (hashing would throw on
 * a float or a lone surrogate) and again on the signed event (its hashes and signatures count).
 */
function refuseOverLimits(event: PduDraft): void {
  const problem = pduLimitProblem(event);
  if (!problem) return;
  if (problem.kind === 'too_large') throw new MatrixError(413, 'M_TOO_LARGE', describePduLimitProblem(problem));
  throw new MatrixError(400, 'M_BAD_JSON', describePduLimitProblem(problem));
}

/** The m.relates_to of an event's content, if well-formed. */
export function relationOf(content: JsonObject): { relType: string; eventId: string; key: string | null } | undefined {
  const rel = content['m.relates_to'];
  if (!rel || typeof rel !== 'object' || Array.isArray(rel)) return undefined;
  const relType = rel.rel_type;
  const eventId = rel.event_id;
  if (typeof relType !== 'string' || typeof eventId !== 'string') return undefined;
  return { relType, eventId, key: typeof rel.key === 'string' ? rel.key : null };
}
