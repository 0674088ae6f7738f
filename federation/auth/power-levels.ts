/**
 * Reading power levels with the defaults from the m.room.power_levels schema
 * and the server-server "Definitions" (required/invite/kick/ban/redact level).
 *
 * Values in content are only trusted as far as the room version allows: v10+
 * requires integers (rule 9.1-9.3 rejects anything else), older versions also
 * accept integer strings. Unusable values fall back to the default rather than
 * throwing, because accepted state should never contain them anyway.
 */
import type { JsonObject, JsonValue, Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { type AuthStateLookup, EventType } from './types.ts';

/** Defaults when a key is absent, or when there is no power levels event. */
export const POWER_LEVEL_DEFAULTS = Object.freeze({
  usersDefault: 0,
  eventsDefault: 0,
  stateDefault: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
  /** `notifications.room` (the @room mention). */
  notificationsRoom: 50,
});

/** Power level of the room creator(s) before any power levels event (v1–v11). */
export const CREATOR_DEFAULT_POWER_LEVEL = 100;

export interface PowerLevels {
  users: ReadonlyMap<string, number>;
  usersDefault: number;
  eventsDefault: number;
  stateDefault: number;
  ban: number;
  kick: number;
  redact: number;
  invite: number;
  events: ReadonlyMap<string, number>;
  notifications: ReadonlyMap<string, number>;
}

/** Integer strings accepted by room versions 1–9 ("stringy" power levels). */
const STRINGY_INTEGER = /^\s*[+-]?[0-9]+\s*$/;

/**
 * A power level value as a number, or undefined if the room version does not
 * accept it as one. v10+: safe integers only (the canonical JSON range).
 */
export function parsePowerLevel(value: JsonValue | undefined, version: RoomVersion): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (!version.integerPowerLevels && typeof value === 'string' && STRINGY_INTEGER.test(value)) {
    const n = Number(value.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMap(value: JsonValue | undefined, version: RoomVersion): Map<string, number> {
  const out = new Map<string, number>();
  if (!isObject(value)) return out;
  for (const [key, raw] of Object.entries(value)) {
    const n = parsePowerLevel(raw, version);
    if (n !== undefined) out.set(key, n);
  }
  return out;
}

/** Power levels from the content of an m.room.power_levels event, defaults filled in. */
export function powerLevelsFromContent(content: JsonObject, version: RoomVersion): PowerLevels {
  const num = (key: string, fallback: number): number => parsePowerLevel(content[key], version) ?? fallback;
  const d = POWER_LEVEL_DEFAULTS;
  return {
    users: parseMap(content['users'], version),
    usersDefault: num('users_default', d.usersDefault),
    eventsDefault: num('events_default', d.eventsDefault),
    stateDefault: num('state_default', d.stateDefault),
    ban: num('ban', d.ban),
    kick: num('kick', d.kick),
    redact: num('redact', d.redact),
    invite: num('invite', d.invite),
    events: parseMap(content['events'], version),
    notifications: parseMap(content['notifications'], version),
  };
}

/** The room's current power levels, or the defaults if it has no such event. */
export function currentPowerLevels(state: AuthStateLookup, version: RoomVersion): PowerLevels {
  const pl = state(EventType.PowerLevels, '');
  // An empty content yields exactly the "no power levels event" defaults.
  return powerLevelsFromContent(pl ? pl.content : {}, version);
}

/**
 * The room creators according to the create event:
 * - v12 (privilegedCreators): the sender plus `content.additional_creators`;
 * - v11 (implicitRoomCreator): the sender;
 * - v10 and older: `content.creator`.
 */
export function roomCreators(create: Pdu | undefined, version: RoomVersion): Set<string> {
  const out = new Set<string>();
  if (!create) return out;
  if (!version.implicitRoomCreator) {
    const creator = create.content['creator'];
    if (typeof creator === 'string') out.add(creator);
    return out;
  }
  out.add(create.sender);
  if (version.privilegedCreators) {
    const extra = create.content['additional_creators'];
    if (Array.isArray(extra)) {
      for (const u of extra) if (typeof u === 'string') out.add(u);
    }
  }
  return out;
}

/**
 * The power level of `userId` in `state`.
 * - v12: room creators have infinite power regardless of power levels.
 * - With a power levels event: `users[userId]`, else `users_default`.
 * - Without one: the creator has 100 and everyone else `users_default` (0).
 */
export function userPowerLevel(userId: string, state: AuthStateLookup, version: RoomVersion): number {
  const create = state(EventType.Create, '');
  const creators = roomCreators(create, version);
  if (version.privilegedCreators && creators.has(userId)) return Infinity;
  const pl = state(EventType.PowerLevels, '');
  if (!pl) return creators.has(userId) ? CREATOR_DEFAULT_POWER_LEVEL : POWER_LEVEL_DEFAULTS.usersDefault;
  const levels = powerLevelsFromContent(pl.content, version);
  return levels.users.get(userId) ?? levels.usersDefault;
}

/**
 * The *required power level* to send an event of `eventType`: `events[type]`,
 * else `state_default` for state events and `events_default` otherwise.
 */
export function requiredPowerLevel(eventType: string, isStateEvent: boolean, levels: PowerLevels): number {
  return levels.events.get(eventType) ?? (isStateEvent ? levels.stateDefault : levels.eventsDefault);
}

/** The level needed to trigger a notification such as `room` (@room). */
export function notificationPowerLevel(key: string, levels: PowerLevels): number | undefined {
  return levels.notifications.get(key) ?? (key === 'room' ? POWER_LEVEL_DEFAULTS.notificationsRoom : undefined);
}
