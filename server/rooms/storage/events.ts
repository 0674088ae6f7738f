import type { Pdu } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';

/** An event as stored, with the columns the engine reads besides the PDU. */
export interface StoredEvent {
  /** Also for v12 create events, whose PDU has no room_id. */
  roomId: string;
  pdu: Pdu;
  streamPos: number;
  stateGroup: number;
  stateGroupBefore: number | null;
  redactedBy: string | null;
  txnId: string | null;
  deviceId: string | null;
}

interface EventRow {
  event_id: string;
  room_id: string;
  json: Pdu;
  stream_pos: number;
  state_group: number;
  state_group_before: number | null;
  redacted_by: string | null;
  txn_id: string | null;
  device_id: string | null;
}

const COLUMNS = 'event_id, room_id, json, stream_pos, state_group, state_group_before, redacted_by, txn_id, device_id';

function toStored(r: EventRow): StoredEvent {
  return {
    roomId: r.room_id,
    pdu: { ...r.json, event_id: r.event_id },
    streamPos: r.stream_pos,
    stateGroup: r.state_group,
    stateGroupBefore: r.state_group_before,
    redactedBy: r.redacted_by,
    txnId: r.txn_id,
    deviceId: r.device_id,
  };
}

export interface NewEventRow {
  roomId: string;
  pdu: Pdu;
  streamPos: number;
  stateGroup: number;
  stateGroupBefore: number | null;
  relatesTo: string | null;
  relType: string | null;
  aggregationKey: string | null;
  threadId: string | null;
  txnId: string | null;
  deviceId: string | null;
}

export async function insertEvent(tx: Tx, e: NewEventRow): Promise<void> {
  const { event_id, ...json } = e.pdu;
  await tx`
    insert into events (event_id, room_id, stream_pos, depth, type, state_key, sender, origin_server_ts, json,
                        state_group, state_group_before, relates_to, rel_type, aggregation_key, thread_id, txn_id, device_id)
    values (${event_id}, ${e.roomId}, ${e.streamPos}, ${e.pdu.depth}, ${e.pdu.type}, ${e.pdu.state_key ?? null},
            ${e.pdu.sender}, ${e.pdu.origin_server_ts}, ${tx.json(json as never)}, ${e.stateGroup}, ${e.stateGroupBefore},
            ${e.relatesTo}, ${e.relType}, ${e.aggregationKey}, ${e.threadId}, ${e.txnId}, ${e.deviceId})`;
}

export async function getEvents(tx: Tx, eventIds: readonly string[]): Promise<Map<string, StoredEvent>> {
  if (eventIds.length === 0) return new Map();
  const rows = await tx<EventRow[]>`select ${tx.unsafe(COLUMNS)} from events where event_id in ${tx(eventIds as string[])}`;
  return new Map(rows.map((r) => [r.event_id, toStored(r)]));
}

export async function getEvent(tx: Tx, eventId: string): Promise<StoredEvent | undefined> {
  return (await getEvents(tx, [eventId])).get(eventId);
}

/** Room events in stream order between two positions (exclusive `from`, inclusive `to`), either direction. */
export async function roomEventsBetween(
  tx: Tx,
  roomId: string,
  opts: { after?: number; upTo?: number; backwards: boolean; limit: number },
): Promise<StoredEvent[]> {
  const after = opts.after ?? 0;
  const upTo = opts.upTo ?? Number.MAX_SAFE_INTEGER;
  const rows = opts.backwards
    ? await tx<EventRow[]>`select ${tx.unsafe(COLUMNS)} from events
        where room_id = ${roomId} and stream_pos > ${after} and stream_pos <= ${upTo}
        order by stream_pos desc limit ${opts.limit}`
    : await tx<EventRow[]>`select ${tx.unsafe(COLUMNS)} from events
        where room_id = ${roomId} and stream_pos > ${after} and stream_pos <= ${upTo}
        order by stream_pos asc limit ${opts.limit}`;
  return rows.map(toStored);
}

/** Rooms (of a given set) with events after `since`, for incremental sync. */
export async function roomsWithEventsSince(tx: Tx, roomIds: readonly string[], since: number, upTo: number): Promise<string[]> {
  if (roomIds.length === 0) return [];
  const rows = await tx<{ room_id: string }[]>`
    select distinct room_id from events
    where room_id in ${tx(roomIds as string[])} and stream_pos > ${since} and stream_pos <= ${upTo}`;
  return rows.map((r) => r.room_id);
}

export async function setRedacted(tx: Tx, eventId: string, redactedBy: string, prunedJson: Omit<Pdu, 'event_id'>): Promise<void> {
  await tx`update events set redacted_by = ${redactedBy}, json = ${tx.json(prunedJson as never)},
    relates_to = null, rel_type = null, aggregation_key = null where event_id = ${eventId}`;
}

export async function maxStreamPos(tx: Tx): Promise<number> {
  const [row] = await tx<{ pos: number | null }[]>`select max(stream_pos)::bigint as pos from events`;
  return row?.pos ?? 0;
}
