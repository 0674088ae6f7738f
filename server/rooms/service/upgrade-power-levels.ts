import type { JsonObject, JsonValue } from '../../../federation/events/pdu.ts';

export interface UpgradePowerOptions {
  /** The user performing the upgrade (the new room's creator). */
  actor: string;
  /** Whether the old / new room version gives creators infinite power (v12+). */
  oldPrivileged: boolean;
  newPrivileged: boolean;
  /** Creators of the old room, and of the new one (actor + additional_creators). */
  oldCreators: ReadonlySet<string>;
  newCreators: ReadonlySet<string>;
}

/** The level v12 rooms ask for m.room.tombstone, above admins (100), so only creators upgrade by default. */
export const V12_TOMBSTONE_LEVEL = 150;

const level = (v: JsonValue | undefined): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
const asObject = (v: JsonValue | undefined): JsonObject => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v } : {});

/**
 * The power levels of an upgraded room, from the old room's.
 *
 * - Into a v12+ room: the creators must not appear in `users` (auth rule 10.4),
 *   and coming from an older version the tombstone level rises to 150 as v12's
 *   createRoom sets it, so that admins cannot make themselves creators by upgrading.
 * - Out of a v12+ room into an older version: creators lose their infinite power,
 *   so the old creators get the highest level the room uses (at least 100).
 * - Below v12 the new creator has only the level `users` gives them. If that is
 *   too low to send the state being copied, `initial` raises it for the copy and
 *   `final` (sent last) restores the old room's levels, as Synapse does.
 */
export function upgradedPowerLevels(old: JsonObject | undefined, o: UpgradePowerOptions): { initial: JsonObject; final?: JsonObject } {
  const content: JsonObject = old ? (JSON.parse(JSON.stringify(old)) as JsonObject) : {};
  const users = asObject(content.users);
  const events = asObject(content.events);
  const scalar = (key: string, dflt: number) => level(content[key]) ?? dflt;
  const everyLevel = [
    scalar('state_default', 50),
    scalar('ban', 50),
    scalar('kick', 50),
    scalar('redact', 50),
    scalar('invite', 0),
    scalar('events_default', 0),
    ...Object.values(events).map(level),
    ...Object.values(users).map(level),
  ].filter((n): n is number => n !== undefined);
  const top = Math.max(100, ...everyLevel);

  // Without a power levels event the old creator had 100; a written-down event must say so.
  if (!old && !o.newPrivileged) users[o.actor] = 100;
  if (o.oldPrivileged && !o.newPrivileged) {
    for (const c of o.oldCreators) users[c] = Math.max(level(users[c]) ?? 0, top);
  }
  if (o.newPrivileged) {
    for (const c of o.newCreators) delete users[c];
    if (!o.oldPrivileged)
      events['m.room.tombstone'] = Math.max(level(events['m.room.tombstone']) ?? scalar('state_default', 50), V12_TOMBSTONE_LEVEL);
  }
  content.users = users;
  content.events = events;
  if (o.newPrivileged) return { initial: content };

  const needed = Math.max(scalar('state_default', 50), scalar('ban', 50), ...Object.values(events).map((v) => level(v) ?? 0));
  const actorLevel = level(users[o.actor]) ?? scalar('users_default', 0);
  if (actorLevel >= needed) return { initial: content };
  return { initial: { ...content, users: { ...users, [o.actor]: needed } }, final: content };
}
