import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { StoredEvent } from '../storage/events.ts';

/** The client-server "ClientEvent" format. */
export interface ClientEvent {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  origin_server_ts: number;
  redacts?: string;
  unsigned: JsonObject;
}

export interface SerializeContext {
  /** The device asking: a sender's own device sees its transaction_id. */
  userId: string;
  deviceId?: string;
  now?: number;
  /** Content of the state event this one replaced, when known. */
  prevContent?: (eventId: string) => JsonObject | undefined;
  /** The redaction that pruned this event, already serialised. */
  redactedBecause?: (redactionId: string) => ClientEvent | undefined;
  /** Bundled aggregations by event id. */
  relations?: (eventId: string) => JsonObject | undefined;
  /** The requesting user's membership just after the event (unsigned.membership). */
  membership?: (eventId: string) => string | undefined;
}

export function toClientEvent(e: StoredEvent, ctx: SerializeContext): ClientEvent {
  const p = e.pdu;
  const unsigned: JsonObject = { age: Math.max(0, (ctx.now ?? Date.now()) - p.origin_server_ts) };
  if (e.txnId && e.deviceId && p.sender === ctx.userId && e.deviceId === ctx.deviceId) unsigned.transaction_id = e.txnId;
  const replaces = p.unsigned?.replaces_state;
  if (typeof replaces === 'string') {
    unsigned.replaces_state = replaces;
    const prev = ctx.prevContent?.(replaces);
    if (prev) unsigned.prev_content = prev;
  }
  if (e.redactedBy) {
    const because = ctx.redactedBecause?.(e.redactedBy);
    if (because) unsigned.redacted_because = because as unknown as JsonObject;
  }
  const membership = ctx.membership?.(p.event_id);
  if (membership !== undefined) unsigned.membership = membership;
  const relations = e.redactedBy ? undefined : ctx.relations?.(p.event_id);
  if (relations && Object.keys(relations).length > 0) unsigned['m.relations'] = relations;

  const redacts =
    p.type === 'm.room.redaction' ? (p.redacts ?? (typeof p.content.redacts === 'string' ? p.content.redacts : undefined)) : undefined;
  return {
    event_id: p.event_id,
    room_id: e.roomId,
    sender: p.sender,
    type: p.type,
    ...(p.state_key !== undefined ? { state_key: p.state_key } : {}),
    content: p.content,
    origin_server_ts: p.origin_server_ts,
    ...(redacts !== undefined ? { redacts } : {}),
    unsigned,
  };
}

/** Stripped state, as shown to invitees and knockers. */
export function toStrippedState(e: StoredEvent): JsonObject {
  return { type: e.pdu.type, state_key: e.pdu.state_key ?? '', sender: e.pdu.sender, content: e.pdu.content };
}
