/**
 * The sender power level used by the reverse topological power ordering
 * ("x's sender has greater power level than y's sender, when looking at their
 * respective auth_events"); callers may inject their own via
 * `ResolveStateOptions.senderPowerLevel`.
 */
import { userPowerLevel as authUserPowerLevel } from '../auth/power-levels.ts';
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { createEventFor, powerLevelsAuthEvent } from './events.ts';
import type { FetchEvent } from './types.ts';

/** v12 "room creators": the create event's sender plus `content.additional_creators`. */
export function roomCreators(create: Pdu): Set<string> {
  const creators = new Set<string>([create.sender]);
  const extra = create.content['additional_creators'];
  if (Array.isArray(extra)) for (const id of extra) if (typeof id === 'string') creators.add(id);
  return creators;
}

/**
 * Power level of `userId` given the power levels and create events in force: the
 * authorization rules' own computation (one implementation for auth and state
 * resolution, so the two never disagree), over just those two events.
 */
export function userPowerLevel(userId: string, powerLevels: Pdu | undefined, create: Pdu | undefined, version: RoomVersion): number {
  return authUserPowerLevel(
    userId,
    (type, key) => (key !== '' ? undefined : type === 'm.room.power_levels' ? powerLevels : type === 'm.room.create' ? create : undefined),
    version,
  );
}

/** Default `SenderPowerLevel`: reads the power levels (and create) event cited by the event. */
export function senderPowerLevelFromAuthEvents(event: Pdu, fetchEvent: FetchEvent, version: RoomVersion): number {
  return userPowerLevel(event.sender, powerLevelsAuthEvent(event, fetchEvent), createEventFor(event, fetchEvent, version), version);
}
