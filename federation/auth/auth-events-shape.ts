/**
 * Rule 2 (v12: rule 3): checks on the event's `auth_events` list itself,
 * independent of any room state. Run together with checkEventAuth for the
 * "based on the event's auth events" check on receipt of a PDU.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { authTypesForEvent } from './auth-events.ts';
import { ALLOW, type AuthResult, deny, EventType } from './types.ts';

export interface AuthEventsShapeOptions {
  /** Whether an event was rejected (rule 2.3). Defaults to "nothing is rejected". */
  isRejected?: (eventId: string) => boolean;
}

/**
 * `authEventsById` must hold every event listed in `event.auth_events`; a
 * missing one is reported as a denial because the rules cannot be evaluated.
 */
export function checkAuthEventsShape(
  event: Pdu,
  authEventsById: ReadonlyMap<string, Pdu>,
  version: RoomVersion,
  options: AuthEventsShapeOptions = {},
): AuthResult {
  // Rule 1 decides the create event on its own (it has no auth events).
  if (event.type === EventType.Create) return ALLOW;

  const allowed = authTypesForEvent(event, version);
  const seen = new Set<string>();
  let hasCreate = false;

  for (const id of event.auth_events) {
    const authEvent = authEventsById.get(id);
    if (!authEvent) return deny(`auth event ${id} is not available`);
    const { type } = authEvent;
    const key = authEvent.state_key;
    // 2.1: one event per (type, state_key), so the state they describe is unambiguous.
    const pair = `${type}\u0000${key ?? ''}`;
    if (key === undefined || seen.has(pair)) {
      return deny(key === undefined ? `auth event ${id} is not a state event` : `duplicate auth events for (${type}, ${key})`);
    }
    seen.add(pair);
    // 2.2: only what the selection algorithm picks; in v12 that excludes the create event.
    if (!allowed.some((a) => a.type === type && a.stateKey === key)) {
      return deny(`auth event ${id} (${type}, ${key}) is not one the auth events selection allows`);
    }
    // 2.3
    if (options.isRejected?.(id)) return deny(`auth event ${id} was rejected`);
    // 2.5: auth events must come from the same room.
    if (authEvent.room_id !== event.room_id) return deny(`auth event ${id} belongs to another room`);
    if (type === EventType.Create) hasCreate = true;
  }

  // 2.4 (v10/v11 only): v12 names the create event through the room id instead.
  if (!version.roomIdFromCreateEvent && !hasCreate) return deny('auth events do not include m.room.create');
  return ALLOW;
}
