/**
 * Stripped state (client-server API "Stripped state"): the few state events an
 * invitee or knocker sees of a room, cut down to type, state_key, sender and
 * content.
 */
import type { JsonObject, Pdu } from '../../../federation/events/pdu.ts';

/** The state types shown, as the spec lists them; m.room.create is required since v1.16. */
export const STRIPPED_STATE_TYPES: ReadonlySet<string> = new Set([
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
  'm.room.topic',
]);

/**
 * One stripped state event. The create event also keeps `origin_server_ts`
 * (MSC4311: with the create event required in stripped state, clients can
 * tell when the room was made without joining it); every other event carries
 * only the four keys.
 */
export function strippedStateEvent(e: Pick<Pdu, 'type' | 'state_key' | 'sender' | 'content' | 'origin_server_ts'>): JsonObject {
  const base: JsonObject = { type: e.type, state_key: e.state_key ?? '', sender: e.sender, content: e.content };
  return e.type === 'm.room.create' ? { ...base, origin_server_ts: e.origin_server_ts } : base;
}
