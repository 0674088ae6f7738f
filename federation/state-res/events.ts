/**
 * Small predicates and look-ups over PDUs used throughout state resolution.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import type { FetchEvent } from './types.ts';

export const CREATE = 'm.room.create';
export const MEMBER = 'm.room.member';
export const JOIN_RULES = 'm.room.join_rules';
export const POWER_LEVELS = 'm.room.power_levels';

/**
 * "Power events" (state res v2, Definitions): power levels, join rules, and
 * membership `leave`/`ban` whose sender is not the state_key (kicks, bans).
 *
 * For power levels / join rules we require state_key "" — only those events
 * carry power semantics (the spec's stated intent: events "that might remove
 * someone's ability to do something"), and this matches deployed
 * implementations, which keeps resolution convergent for junk state keys.
 */
export function isPowerEvent(event: Pdu): boolean {
  if (event.state_key === undefined) return false;
  if (event.type === POWER_LEVELS || event.type === JOIN_RULES) return event.state_key === '';
  if (event.type === MEMBER) {
    const membership = event.content['membership'];
    return (membership === 'leave' || membership === 'ban') && event.sender !== event.state_key;
  }
  return false;
}

/** The event in `event.auth_events` with this (type, state_key), if we have it. */
export function findAuthEvent(event: Pdu, type: string, stateKey: string, fetchEvent: FetchEvent): Pdu | undefined {
  for (const id of event.auth_events) {
    const candidate = fetchEvent(id);
    if (candidate && candidate.type === type && candidate.state_key === stateKey) return candidate;
  }
  return undefined;
}

/** The `m.room.power_levels` event cited in `event.auth_events` (used by mainlines). */
export function powerLevelsAuthEvent(event: Pdu, fetchEvent: FetchEvent): Pdu | undefined {
  return findAuthEvent(event, POWER_LEVELS, '', fetchEvent);
}

/**
 * Id of the create event implied by a v12 room id: the room id is the create
 * event's reference hash with sigil "!" instead of "$" (v12 auth rule 2).
 */
export function createEventIdFromRoomId(roomId: string | undefined): string | undefined {
  return roomId !== undefined && roomId.startsWith('!') ? `$${roomId.slice(1)}` : undefined;
}

/**
 * The room's create event as seen from `event`. Before v12 it is one of the
 * event's auth events; from v12 it must not be (v12 auth rule 3.2) and is
 * named by the room id instead.
 */
export function createEventFor(event: Pdu, fetchEvent: FetchEvent, version: RoomVersion): Pdu | undefined {
  if (event.type === CREATE && event.state_key === '') return event;
  if (version.roomIdFromCreateEvent) {
    const id = createEventIdFromRoomId(event.room_id);
    const create = id === undefined ? undefined : fetchEvent(id);
    if (create && create.type === CREATE && create.state_key === '') return create;
  }
  return findAuthEvent(event, CREATE, '', fetchEvent);
}

/** Compares event ids by code unit; event ids are ASCII so this equals code point order. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
