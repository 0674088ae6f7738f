/**
 * Redactions outside the authorization rules. Since room version 3 the auth
 * rules treat m.room.redaction like any other event (only `events` /
 * `events_default` apply; the *redact level* is not consulted). Whether the
 * redaction is then *applied* to its target is decided by "Handling
 * redactions" (v3-handling-redactions, unchanged in v10–v12), below.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { roomIdForCreateEvent } from './auth-rules.ts';
import { domainOf } from './identifiers.ts';
import { currentPowerLevels, userPowerLevel } from './power-levels.ts';
import { ALLOW, type AuthResult, type AuthStateLookup, deny, EventType } from './types.ts';

/**
 * The id of the event a redaction targets: `content.redacts` from v11 (which
 * moved it into content), the top-level `redacts` before that.
 */
export function redactionTarget(redaction: Pdu, version: RoomVersion): string | undefined {
  if (redaction.type !== EventType.Redaction) return undefined;
  const target = version.updatedRedactionRules ? redaction.content['redacts'] : redaction.redacts;
  return typeof target === 'string' ? target : undefined;
}

/** An event's room id; v12 create events carry none and are named by their own id. */
function roomOf(event: Pdu, version: RoomVersion): string | undefined {
  if (version.roomIdFromCreateEvent && event.type === EventType.Create && event.room_id === undefined) {
    return roomIdForCreateEvent(event.event_id);
  }
  return event.room_id;
}

/**
 * Whether an (already authorised) redaction should be applied to `target`.
 * `state` is the state the redaction was authorised against. Applied when
 * 1. the redaction sender's power level is at least the *redact level*, or
 * 2. the redaction sender's domain matches the target sender's domain —
 * even if the sender could not have sent the target's event type.
 */
export function checkRedactionApplies(redaction: Pdu, target: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  const targetId = redactionTarget(redaction, version);
  if (targetId === undefined) return deny('redaction has no redacts target');
  if (targetId !== target.event_id) return deny('redaction targets a different event');
  if (roomOf(redaction, version) !== roomOf(target, version)) return deny('redaction and target are in different rooms');

  if (userPowerLevel(redaction.sender, state, version) >= currentPowerLevels(state, version).redact) return ALLOW;
  const domain = domainOf(redaction.sender);
  if (domain !== undefined && domain === domainOf(target.sender)) return ALLOW;
  return deny('redaction sender has neither the redact level nor the target sender domain');
}
