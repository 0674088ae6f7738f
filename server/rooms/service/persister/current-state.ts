/**
 * The room's current state is the state of its forward extremities, resolved
 * when there are several. It is kept as a state group on the room and as the
 * `current_state` rows that membership and directory queries read.
 */
import type { StateMap } from '../../../../federation/events/pdu.ts';
import { splitStateKey, stateKey } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { Tx } from '../../../db/database.ts';
import { getCurrentStateGroup, getForwardExtremities, setCurrentStateGroup } from '../../storage/dag.ts';
import type { StoredEvent } from '../../storage/events.ts';
import { unforgetRoom } from '../../storage/forgotten.ts';
import { currentState, deleteCurrentState, upsertCurrentState } from '../../storage/rooms.ts';
import type { RoomState } from '../room-state.ts';
import { stateOfEvents } from './state-before.ts';

/**
 * After an accepted live event: if it cites exactly the old extremities, the new
 * current state is the state after it (one row changes, if it is a state event);
 * otherwise the extremities' states are resolved and the rows brought in line.
 * `extremities` are the new forward extremities when the caller knows them
 * (a new local event), else they are read.
 */
export async function updateCurrentState(
  tx: Tx,
  roomState: RoomState,
  event: StoredEvent,
  oldExtremities: readonly string[],
  version: RoomVersion,
  extremities?: readonly string[],
): Promise<void> {
  const roomId = event.roomId;
  extremities ??= await getForwardExtremities(tx, roomId);
  const citesAll =
    extremities.length === 1 &&
    extremities[0] === event.pdu.event_id &&
    event.pdu.prev_events.length === oldExtremities.length &&
    oldExtremities.every((id) => event.pdu.prev_events.includes(id));
  if (citesAll || oldExtremities.length === 0) {
    // A message on the room's one head leaves the state (the head's group) as it was.
    const unchanged = event.pdu.state_key === undefined && oldExtremities.length === 1;
    if (!unchanged) await setCurrentStateGroup(tx, roomId, event.stateGroup);
    if (event.pdu.state_key !== undefined) await setRow(tx, event, event);
    return;
  }
  const previousGroup = await getCurrentStateGroup(tx, roomId);
  const heads = [...(await roomState.loadEvents(tx, extremities)).values()];
  const resolved = await stateOfEvents(tx, roomState, roomId, heads, version);
  if (resolved.group === previousGroup) return;
  await setCurrentStateGroup(tx, roomId, resolved.group);
  await syncRows(tx, roomState, event, resolved.ids);
}

async function syncRows(tx: Tx, roomState: RoomState, cause: StoredEvent, state: StateMap): Promise<void> {
  const rows = await currentState(tx, cause.roomId);
  const now = new Map(rows.map((r) => [stateKey(r.type, r.state_key), r.event_id]));
  const changed = [...state].filter(([k, id]) => now.get(k) !== id);
  const events = await roomState.loadEvents(
    tx,
    changed.map(([, id]) => id),
  );
  for (const [, id] of changed) {
    const e = events.get(id);
    if (e) await setRow(tx, e, cause);
  }
  for (const k of now.keys()) {
    if (state.has(k)) continue;
    const [type, key] = splitStateKey(k);
    await deleteCurrentState(tx, cause.roomId, type, key);
  }
}

/** One current-state row, stamped with the position of the event that changed it. */
async function setRow(tx: Tx, e: StoredEvent, cause: StoredEvent): Promise<void> {
  const pdu = e.pdu;
  const membership = pdu.type === 'm.room.member' && typeof pdu.content.membership === 'string' ? pdu.content.membership : null;
  await upsertCurrentState(tx, e.roomId, {
    type: pdu.type,
    stateKey: pdu.state_key!,
    eventId: pdu.event_id,
    membership,
    streamPos: cause.streamPos,
  });
  if (membership !== null) await unforgetRoom(tx, pdu.state_key!, e.roomId);
}
