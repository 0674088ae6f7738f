/**
 * The authorization rules of room versions 1-12 ("Authorisation rules" in
 * each room version's spec: rooms/fragments v1-auth-rules for v1/v2,
 * v3-auth-rules for v3-v5, v8-auth-rules ..., and rooms/v10-v12), as one pure
 * function; the differences are flags on RoomVersion. The rules about
 * the `auth_events` list itself (rule 2 in v10/v11, 3 in v12) depend only on
 * the event, so they live in auth-events-shape.ts; auth-check.ts combines both
 * for the "based on the event's auth events" check.
 *
 * Rule numbers use v10/v11 numbering; v12 inserts a rule 2 (room id names the
 * create event) so its later rules are one higher, and v1-v5 have the
 * m.room.aliases rule as rule 4, so theirs are one higher from there on.
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

  // v1-v5 rule 4: a server manages its own aliases, whatever its users' power.
  if (version.aliasesAuthRule && event.type === EventType.Aliases) {
    if (event.state_key === undefined) return deny('m.room.aliases: missing state_key');
    if (domainOf(event.sender) !== event.state_key) return deny("m.room.aliases: state_key is not the sender's domain");
    return ALLOW;
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

  // v1/v2 rule 11: redactions were part of the auth rules (from v3 "Handling
  // redactions" decides instead whether one is applied). Event ids carried a
  // domain then, and a server could redact the events it had created.
  if (version.redactionAuthRule && event.type === EventType.Redaction) {
    if (senderLevel >= levels.redact) return ALLOW;
    const target = event.redacts;
    if (typeof target === 'string' && domainOf(target) !== undefined && domainOf(target) === domainOf(event.event_id)) return ALLOW;
    return deny('m.room.redaction: sender has neither the redact level nor the domain of the redacted event id');
  }

  // Rule 10
  return ALLOW;
}
