/**
 * Check 4 of "Checks performed on receipt of a PDU": the event must pass the
 * authorization rules based on its own auth events. Combines the rules about
 * the auth_events list (auth-events-shape.ts) with checkEventAuth run against
 * the state those auth events describe.
 */
import type { Pdu } from '../events/pdu.ts';
import { stateKey } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { checkAuthEventsShape } from './auth-events-shape.ts';
import { checkEventAuth } from './auth-rules.ts';
import { type AuthOptions, type AuthResult, deny, EventType } from './types.ts';

export interface AuthEventsCheckOptions extends AuthOptions {
  /** Whether an event was rejected. Defaults to "nothing is rejected". */
  isRejected?: (eventId: string) => boolean;
}

/**
 * `authEventsById` holds the events in `event.auth_events` and, for v12, the
 * create event named by the room id (`$` + room id without its `!`).
 */
export function checkEventAgainstAuthEvents(
  event: Pdu,
  authEventsById: ReadonlyMap<string, Pdu>,
  version: RoomVersion,
  options: AuthEventsCheckOptions = {},
): AuthResult {
  const state = new Map<string, Pdu>();

  if (version.roomIdFromCreateEvent && event.type !== EventType.Create) {
    // v12 rule 2 (before the auth_events rules): the room id names the create
    // event, which must be accepted.
    const createId = event.room_id?.startsWith('!') ? `$${event.room_id.slice(1)}` : undefined;
    const create = createId === undefined ? undefined : authEventsById.get(createId);
    if (!create || createId === undefined || create.type !== EventType.Create || options.isRejected?.(createId)) {
      return deny('room_id does not name an accepted m.room.create event');
    }
    state.set(stateKey(EventType.Create, ''), create);
  }

  const shape = checkAuthEventsShape(event, authEventsById, version, options);
  if (!shape.allowed) return shape;

  for (const id of event.auth_events) {
    const authEvent = authEventsById.get(id);
    // Presence, uniqueness and state_key were checked by checkAuthEventsShape.
    if (authEvent?.state_key !== undefined) state.set(stateKey(authEvent.type, authEvent.state_key), authEvent);
  }

  return checkEventAuth(event, (type, key) => state.get(stateKey(type, key)), version, options);
}
