/**
 * Rule 9 (v12: rule 10): authorization of m.room.power_levels events. Rule
 * numbers below use the v10/v11 numbering; v12 inserts the creators rule as
 * 10.4 and shifts the rest by one.
 *
 * The change rules (9.5–9.9) compare the raw content of the previous and the
 * new event — "added, changed or removed" is about what is written, not about
 * the effective values after defaults.
 */
import type { JsonObject, JsonValue, Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { isValidUserId } from './identifiers.ts';
import { parsePowerLevel, roomCreators, userPowerLevel } from './power-levels.ts';
import { ALLOW, type AuthResult, type AuthStateLookup, deny, EventType } from './types.ts';

/** The integer-valued top-level keys covered by rules 9.1 and 9.5. */
export const POWER_LEVEL_SCALAR_KEYS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'] as const;

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/** Whether `value` is an object whose values are all valid power levels. */
function isLevelMap(value: JsonValue, version: RoomVersion, keyOk: (key: string) => boolean = () => true): boolean {
  const obj = asObject(value);
  if (!obj) return false;
  return Object.entries(obj).every(([k, v]) => keyOk(k) && parsePowerLevel(v, version) !== undefined);
}

/** Rules 9.1–9.3 (and v12 10.4): the shape of the new content on its own. */
function checkContentShape(content: JsonObject, state: AuthStateLookup, version: RoomVersion): AuthResult {
  if (version.integerPowerLevels) {
    // 9.1 (added in v10): no more string levels.
    for (const key of POWER_LEVEL_SCALAR_KEYS) {
      const v = content[key];
      if (v !== undefined && parsePowerLevel(v, version) === undefined) {
        return deny(`m.room.power_levels: ${key} is not an integer`);
      }
    }
    // 9.2 (added in v10)
    for (const key of ['events', 'notifications'] as const) {
      const v = content[key];
      if (v !== undefined && !isLevelMap(v, version)) {
        return deny(`m.room.power_levels: ${key} must be an object of integers`);
      }
    }
  }
  // 9.3. Read as "if present": `users` is optional in the event schema, and a
  // room without explicit user levels is legitimate.
  const users = content['users'];
  if (users !== undefined && !isLevelMap(users, version, isValidUserId)) {
    return deny('m.room.power_levels: users must map valid user IDs to integers');
  }
  // v12 10.4: creators' infinite power cannot be written down (or lowered).
  if (version.privilegedCreators) {
    const listed = asObject(users) ?? {};
    for (const creator of roomCreators(state(EventType.Create, ''), version)) {
      if (Object.hasOwn(listed, creator)) return deny(`m.room.power_levels: users must not contain creator ${creator}`);
    }
  }
  return ALLOW;
}

interface Change {
  key: string;
  before: number | undefined;
  after: number | undefined;
}

/** Entries of two level maps that were added, changed or removed. */
function diff(before: JsonObject, after: JsonObject, version: RoomVersion): Change[] {
  const changes: Change[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = Object.hasOwn(before, key) ? parsePowerLevel(before[key], version) : undefined;
    const a = Object.hasOwn(after, key) ? parsePowerLevel(after[key], version) : undefined;
    if (b !== a) changes.push({ key, before: b, after: a });
  }
  return changes;
}

export function checkPowerLevelsEvent(event: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  const shape = checkContentShape(event.content, state, version);
  if (!shape.allowed) return shape;

  // 9.4: the first power levels event (normally sent by the creator) sets the baseline.
  const previous = state(EventType.PowerLevels, '');
  if (!previous) return ALLOW;

  const senderLevel = userPowerLevel(event.sender, state, version);
  const oldContent = previous.content;
  const newContent = event.content;

  // 9.5: nobody may touch a threshold above their own level, or raise one above it.
  const scalarsBefore: JsonObject = {};
  const scalarsAfter: JsonObject = {};
  for (const key of POWER_LEVEL_SCALAR_KEYS) {
    const b = oldContent[key];
    const a = newContent[key];
    if (b !== undefined) scalarsBefore[key] = b;
    if (a !== undefined) scalarsAfter[key] = a;
  }
  for (const { key, before, after } of diff(scalarsBefore, scalarsAfter, version)) {
    if (before !== undefined && before > senderLevel) return deny(`power_levels: current ${key} exceeds sender level`);
    if (after !== undefined && after > senderLevel) return deny(`power_levels: new ${key} exceeds sender level`);
  }

  // 9.6 / 9.7: the same for per-event-type and per-notification levels.
  // Before v6 only `events` was checked here.
  for (const prop of version.notificationsPowerLevels ? (['events', 'notifications'] as const) : (['events'] as const)) {
    const changes = diff(asObject(oldContent[prop]) ?? {}, asObject(newContent[prop]) ?? {}, version);
    for (const { key, before, after } of changes) {
      if (before !== undefined && before > senderLevel) {
        return deny(`power_levels: current ${prop}.${key} exceeds sender level`);
      }
      if (after !== undefined && after > senderLevel) {
        return deny(`power_levels: new ${prop}.${key} exceeds sender level`);
      }
    }
  }

  // 9.8 / 9.9: users may demote themselves, but only touch users strictly below them,
  // and never promote anyone above their own level.
  const userChanges = diff(asObject(oldContent['users']) ?? {}, asObject(newContent['users']) ?? {}, version);
  for (const { key, before, after } of userChanges) {
    if (key !== event.sender && before !== undefined && before >= senderLevel) {
      return deny(`power_levels: cannot change the level of ${key}, who is not below the sender`);
    }
    if (after !== undefined && after > senderLevel) {
      return deny(`power_levels: cannot raise ${key} above the sender's level`);
    }
  }

  // 9.10
  return ALLOW;
}
