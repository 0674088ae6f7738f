/**
 * Redactions as the spec has them: a redaction is applied, and shown to clients,
 * only once its target is here and its sender may redact it (room versions 3+:
 * same server as the target's sender, or enough power). Until then it is stored
 * but held back; when its target arrives, it is applied then.
 */
import { checkRedactionApplies, redactionTarget } from '../../../../federation/auth/index.ts';
import { redactEvent } from '../../../../federation/events/index.ts';
import type { Pdu } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { Tx } from '../../../db/database.ts';
import { nextStreamPosition } from '../../../db/stream.ts';
import { releaseRedaction, setRedacted, type StoredEvent } from '../../storage/events.ts';
import { redactionsOf } from '../../storage/dag.ts';
import type { RoomState } from '../room-state.ts';
import type { StateLookup } from './auth-checks.ts';

/** Whether a new redaction applies now (its target is stored and it may redact it). */
export async function redactionApplies(
  tx: Tx,
  roomState: RoomState,
  redaction: Pdu,
  stateBefore: StateLookup,
  version: RoomVersion,
): Promise<{ targetId: string | undefined; applies: boolean }> {
  const targetId = redactionTarget(redaction, version);
  if (!targetId) return { targetId, applies: false };
  const target = await roomState.loadEvent(tx, targetId);
  if (!target) return { targetId, applies: false };
  return { targetId, applies: checkRedactionApplies(redaction, target.pdu, stateBefore, version).allowed };
}

/** Prunes the target of a redaction that applies. */
export async function applyRedaction(
  tx: Tx,
  roomState: RoomState,
  redactionId: string,
  targetId: string,
  version: RoomVersion,
): Promise<void> {
  const target = await roomState.loadEvent(tx, targetId);
  if (!target || target.redactedBy) return;
  const { event_id: _id, ...pruned } = redactEvent(target.pdu, version);
  await setRedacted(tx, targetId, redactionId, pruned);
  roomState.forget(targetId);
}

/**
 * An event just stored may be the target of redactions held back for it: apply
 * those that now apply, and release them to clients at new stream positions.
 * Returns the positions released, for the after-commit notification.
 */
export async function applyHeldRedactions(tx: Tx, roomState: RoomState, target: StoredEvent, version: RoomVersion): Promise<StoredEvent[]> {
  const ids = await redactionsOf(tx, target.pdu.event_id);
  if (ids.length === 0) return [];
  const released: StoredEvent[] = [];
  for (const r of (await roomState.loadEvents(tx, ids)).values()) {
    if (r.rejectedReason !== null || r.softFailed) continue;
    const state = await roomState.loadState(tx, r.stateGroupBefore);
    if (!checkRedactionApplies(r.pdu, target.pdu, state.get, version).allowed) continue;
    await applyRedaction(tx, roomState, r.pdu.event_id, target.pdu.event_id, version);
    // Only a held one is released; an outlier is not in any timeline.
    if (r.outlier || r.inTimeline) continue;
    const pos = await nextStreamPosition(tx);
    await releaseRedaction(tx, r.pdu.event_id, pos);
    roomState.forget(r.pdu.event_id);
    released.push({ ...r, streamPos: pos, inTimeline: true });
  }
  return released;
}
