/**
 * The sender power level used by the reverse topological power ordering
 * ("x's sender has greater power level than y's sender, when looking at their
 * respective auth_events").
 *
 * Kept local (rather than importing federation/auth) so the resolver has no
 * dependency on it; callers may inject their own via
 * `ResolveStateOptions.senderPowerLevel`.
 */
import type { JsonValue, Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { createEventFor, powerLevelsAuthEvent } from './events.ts';
import type { FetchEvent } from './types.ts';

/** Power level of the creator when the room has no power levels event (m.room.power_levels docs). */
const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;

/** v10+ only allows integers in power levels (auth rule "10.1"/"9.1"); anything else is ignored. */
function integer(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** v12 "room creators": the create event's sender plus `content.additional_creators`. */
export function roomCreators(create: Pdu): Set<string> {
  const creators = new Set<string>([create.sender]);
  const extra = create.content['additional_creators'];
  if (Array.isArray(extra)) for (const id of extra) if (typeof id === 'string') creators.add(id);
  return creators;
}

/** The pre-v12 "room creator": `content.creator` before v11, the sender from v11 on. */
function legacyCreator(create: Pdu, version: RoomVersion): string | undefined {
  if (version.implicitRoomCreator) return create.sender;
  const creator = create.content['creator'];
  return typeof creator === 'string' ? creator : undefined;
}

/**
 * Power level of `userId` given the power levels and create events in force.
 * v12: creators have infinite power, whatever the power levels event says.
 * Otherwise `users[userId]`, else `users_default`, else 0; with no power
 * levels event, the creator has 100 and everyone else 0.
 */
export function userPowerLevel(userId: string, powerLevels: Pdu | undefined, create: Pdu | undefined, version: RoomVersion): number {
  if (version.privilegedCreators && create && roomCreators(create).has(userId)) return Infinity;
  if (!powerLevels) {
    return create && legacyCreator(create, version) === userId ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS : 0;
  }
  const users = powerLevels.content['users'];
  const explicit = typeof users === 'object' && users !== null && !Array.isArray(users) ? integer(users[userId]) : undefined;
  return explicit ?? integer(powerLevels.content['users_default']) ?? 0;
}

/** Default `SenderPowerLevel`: reads the power levels (and create) event cited by the event. */
export function senderPowerLevelFromAuthEvents(event: Pdu, fetchEvent: FetchEvent, version: RoomVersion): number {
  return userPowerLevel(event.sender, powerLevelsAuthEvent(event, fetchEvent), createEventFor(event, fetchEvent, version), version);
}
