import type { Pdu } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { Tx } from '../../../db/database.ts';
import { recordRedaction } from '../../storage/dag.ts';
import { getEvent, insertEvent, type StoredEvent } from '../../storage/events.ts';
import { insertTxn } from '../../storage/rooms.ts';
import { createStateGroup, loadStateGroup, stateGroupChainLen } from '../../storage/state.ts';
import type { RoomState } from '../room-state.ts';
import { indexEventAuthChain } from './auth-chain-index.ts';
import { relationOf } from './relation-of.ts';
import { applyHeldRedactions, applyRedaction, redactionApplies } from './redactions.ts';
import type { GroupedState } from './state-before.ts';
import { txnKeyOf, type NewEvent, type Verdict } from './types.ts';

export interface EventToWrite {
  roomId: string;
  pdu: Pdu;
  version: RoomVersion;
  /** State before the event; null for an outlier. */
  before: GroupedState | null;
  verdict: Verdict;
  streamPos: number;
  outlier: boolean;
  txn?: NewEvent['txn'] | undefined;
  /**
   * A new local event: nothing can cite it or hold a redaction for it yet (its id
   * is a hash or random), and its auth events are state the server chose itself.
   */
  fresh?: boolean;
}

/**
 * Stores one event with what follows from it in the same transaction: its state
 * group, DAG edges, relation projection, transaction id, and redactions (its own,
 * or held ones waiting for it). Returns the stored event and any held redactions
 * it released, which /sync must hear about; and, when the writes are still on their
 * way (a new local event's), `written`, which the caller must await before commit.
 */
export async function writeEvent(
  tx: Tx,
  roomState: RoomState,
  w: EventToWrite,
): Promise<{ stored: StoredEvent; released: StoredEvent[]; written?: Promise<unknown> }> {
  const { pdu, version, before, verdict } = w;
  const accepted = verdict.outcome === 'accepted';
  const appliesToState = verdict.outcome !== 'rejected';

  let stateGroup: number | null = before?.group ?? null;
  if (before && appliesToState && pdu.state_key !== undefined) {
    const replaced = before.get(pdu.type, pdu.state_key);
    if (replaced) pdu.unsigned = { ...(pdu.unsigned ?? {}), replaces_state: replaced.event_id };
    const base = before.group;
    const prev = base === null ? null : { id: base, chainLen: await stateGroupChainLen(tx, base) };
    stateGroup = await createStateGroup(tx, w.roomId, prev, [{ type: pdu.type, state_key: pdu.state_key, event_id: pdu.event_id }], () =>
      loadStateGroup(tx, base!),
    );
  }

  let redaction: { targetId: string | undefined; applies: boolean } | undefined;
  if (accepted && pdu.type === 'm.room.redaction' && before) redaction = await redactionApplies(tx, roomState, pdu, before.get, version);

  const rel = accepted ? relationOf(pdu.content) : undefined;
  const row = {
    roomId: w.roomId,
    pdu,
    streamPos: w.streamPos,
    stateGroup: w.outlier ? null : stateGroup,
    stateGroupBefore: before?.group ?? null,
    relatesTo: rel?.eventId ?? null,
    relType: rel?.relType ?? null,
    aggregationKey: rel?.key ?? null,
    threadId: rel?.relType === 'm.thread' ? rel.eventId : null,
    txnId: w.txn?.txnId ?? null,
    deviceId: w.txn?.deviceId ?? null,
    outlier: w.outlier,
    rejectedReason: verdict.outcome === 'rejected' ? verdict.reason : null,
    softFailed: verdict.outcome === 'soft_failed',
    redactionHeld: redaction !== undefined && !redaction.applies,
  };
  // One round trip: queries on one connection run in the order sent, the event row first.
  const inserts = Promise.all([
    insertEvent(tx, row),
    indexEventAuthChain(tx, w.roomId, pdu, { rejected: verdict.outcome === 'rejected', fresh: w.fresh ?? false }),
    w.txn ? insertTxn(tx, pdu.sender, w.txn.deviceId, txnKeyOf(w.txn), pdu.event_id) : undefined,
  ]);

  const stored: StoredEvent = {
    roomId: w.roomId,
    pdu,
    streamPos: w.streamPos,
    stateGroup: row.stateGroup,
    stateGroupBefore: row.stateGroupBefore,
    redactedBy: null,
    txnId: row.txnId,
    deviceId: row.deviceId,
    outlier: w.outlier,
    rejectedReason: row.rejectedReason,
    softFailed: row.softFailed,
    inTimeline: !w.outlier && accepted && !row.redactionHeld,
  };
  // Nothing below applies to a new local event that redacts nothing: the caller sends
  // its own writes behind these inserts, and the lot costs one round trip.
  if (w.fresh && redaction === undefined) return { stored, released: [], written: inserts };
  await inserts;

  if (redaction?.targetId !== undefined) {
    await recordRedaction(tx, w.roomId, pdu.event_id, redaction.targetId);
    if (redaction.applies) await applyRedaction(tx, roomState, pdu.event_id, redaction.targetId, version);
  }
  const released = verdict.outcome === 'rejected' || w.fresh ? [] : await applyHeldRedactions(tx, roomState, stored, version);
  if (released.length > 0) {
    // The event itself was pruned by the redactions just released (read past the cache: not committed yet).
    const pruned = await getEvent(tx, pdu.event_id);
    if (pruned) return { stored: { ...stored, pdu: pruned.pdu, redactedBy: pruned.redactedBy }, released };
  }
  return { stored, released };
}
