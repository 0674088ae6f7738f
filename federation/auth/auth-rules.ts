/**
 * The authorization rules of room versions 10, 11 and 12 ("Authorisation
 * rules" in each room version's spec), as one pure function. The rules about
 * the `auth_events` list itself (rule 2 in v10/v11, 3 in v12) depend only on
 * the event, so they live in auth-events-shape.ts; auth-check.ts combines both
 * for the "based on the event's auth events" check.
 *
 * Rule numbers use v10/v11 numbering; v12 inserts a rule 2 (room id names the
 * create event) so its later rules are one higher.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { checkCreateEvent } from './create-rules.ts';
import { domainOf } from './identifiers.ts';
import { checkMemberEvent, membershipOf } from './membership-rules.ts';
import { checkPowerLevelsEvent } from './power-level-rules.ts';
import { currentPowerLevels, requiredPowerLevel, userPowerLevel } from './power-levels.ts';
import { ALLOW, type AuthOptions, type AuthResult, type AuthStateLookup, deny, EventType } from './types.ts';

/** v12: the room id is the create event's id with `!` instead of `$`. */
export function roomIdForCreateEvent(createEventId: string): string {
  return `!${createEventId.startsWith('$') ? createEventId.slice(1) : createEventId}`;
}

/**
 * Whether `event` is allowed given the room state `authState` (the state
 * before the event, the current state, or the state formed by its auth
 * events). `authState` must only contain accepted events.
 *
 * Note: m.room.redaction events get no special treatment here — the redact
 * level is deliberately not part of the auth rules; whether a redaction is
 * *applied* is decided by redaction.ts ("Handling redactions").
 */
export function checkEventAuth(event: Pdu, authState: AuthStateLookup, version: RoomVersion, options: AuthOptions = {}): AuthResult {
  // Rule 1
  if (event.type === EventType.Create) return checkCreateEvent(event, version);

  const create = authState(EventType.Create, '');
  // Every room state contains its create event; v10/v11 rule 2.4 also demands it.
  if (!create) return deny('no m.room.create event in the auth state');

  if (version.roomIdFromCreateEvent) {
    // v12 rule 2: the room id must name an accepted create event.
    if (event.room_id !== roomIdForCreateEvent(create.event_id)) {
      return deny('room_id does not match the m.room.create event id');
    }
  } else if (create.room_id !== event.room_id) {
    // Guards against being handed another room's state (cf. rule 2.5).
    return deny('m.room.create in the auth state belongs to another room');
  }

  // Rule 3: unfederated rooms only accept events from the creator's server.
  if (create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return deny('room is not federated and the sender is on another server');
  }

  // Rule 4
  if (event.type === EventType.Member) return checkMemberEvent(event, authState, version, options);

  // Rule 5: everything else requires being in the room.
  if (membershipOf(event.sender, authState) !== 'join') return deny('sender is not joined to the room');

  const levels = currentPowerLevels(authState, version);
  const senderLevel = userPowerLevel(event.sender, authState, version);

  // Rule 6: a 3PID invite placeholder is an invite, so it needs the invite level
  // (and is decided here, before the generic required-level rule).
  if (event.type === EventType.ThirdPartyInvite) {
    if (senderLevel >= levels.invite) return ALLOW;
    return deny('m.room.third_party_invite: sender power level is below the invite level');
  }

  // Rule 7
  const isState = event.state_key !== undefined;
  const required = requiredPowerLevel(event.type, isState, levels);
  if (required > senderLevel) {
    return deny(`${event.type}: requires power level ${required}, sender has ${senderLevel}`);
  }

  // Rule 8: state keyed by a user id belongs to that user.
  if (event.state_key !== undefined && event.state_key.startsWith('@') && event.state_key !== event.sender) {
    return deny('state_key is a user id other than the sender');
  }

  // Rule 9
  if (event.type === EventType.PowerLevels) return checkPowerLevelsEvent(event, authState, version);

  // Rule 10
  return ALLOW;
}
