import type { Tx } from '../../db/database.ts';

/** The room DAG's edges: forward extremities (no children yet) and backward extremities (missing parents). */

export async function getForwardExtremities(tx: Tx, roomId: string): Promise<string[]> {
  const rows = await tx<{ event_id: string }[]>`select event_id from forward_extremities where room_id = ${roomId}`;
  return rows.map((r) => r.event_id);
}

/** An accepted event replaces the extremities it cites and becomes one itself. */
export async function advanceForwardExtremities(tx: Tx, roomId: string, eventId: string, prevEventIds: readonly string[]): Promise<void> {
  const cited =
    prevEventIds.length > 0
      ? tx`delete from forward_extremities where room_id = ${roomId} and event_id in ${tx(prevEventIds as string[])}`
      : undefined;
  // An event some later stored event already cites is no extremity.
  const added = tx`insert into forward_extremities (room_id, event_id)
    select ${roomId}, ${eventId} where not exists (
      select 1 from event_edges ed join events c on c.event_id = ed.event_id
      where ed.prev_event_id = ${eventId} and c.in_timeline)
    on conflict do nothing`;
  await Promise.all([cited, added]);
}

/** Prev events we do not have become backward extremities; an event that arrives stops being one. */
export async function updateBackwardExtremities(tx: Tx, roomId: string, eventId: string, missingPrevIds: readonly string[]): Promise<void> {
  await tx`delete from backward_extremities where room_id = ${roomId} and event_id = ${eventId}`;
  if (missingPrevIds.length > 0) {
    await tx`insert into backward_extremities ${tx(missingPrevIds.map((id) => ({ room_id: roomId, event_id: id })))} on conflict do nothing`;
  }
}

export async function getBackwardExtremities(tx: Tx, roomId: string): Promise<string[]> {
  const rows = await tx<{ event_id: string }[]>`select event_id from backward_extremities where room_id = ${roomId}`;
  return rows.map((r) => r.event_id);
}

export async function setCurrentStateGroup(tx: Tx, roomId: string, groupId: number | null): Promise<void> {
  await tx`update rooms set current_state_group = ${groupId} where room_id = ${roomId}`;
}

export async function getCurrentStateGroup(tx: Tx, roomId: string): Promise<number | null | undefined> {
  const [row] = await tx<{ current_state_group: number | null }[]>`select current_state_group from rooms where room_id = ${roomId}`;
  return row === undefined ? undefined : row.current_state_group;
}

/** Redactions by target: recorded when the redaction is stored, looked up when its target arrives. */
export async function recordRedaction(tx: Tx, roomId: string, redactionId: string, targetId: string): Promise<void> {
  await tx`insert into event_redactions (redaction_id, target_id, room_id) values (${redactionId}, ${targetId}, ${roomId})
    on conflict do nothing`;
}

export async function redactionsOf(tx: Tx, targetId: string): Promise<string[]> {
  const rows = await tx<{ redaction_id: string }[]>`select redaction_id from event_redactions where target_id = ${targetId}`;
  return rows.map((r) => r.redaction_id);
}
