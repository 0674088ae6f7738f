import { currentPowerLevels, isValidUserId, requiredPowerLevel, roomCreators, userPowerLevel } from '../../../federation/auth/index.ts';
import type { JsonObject, Pdu } from '../../../federation/events/pdu.ts';
import { roomVersion, type RoomVersion } from '../../../federation/room-versions.ts';
import { randomId } from '../../accounts/index.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { aliasesOf, moveAliases } from '../storage/aliases.ts';
import { setRoomPublic } from '../storage/rooms.ts';
import { getForwardExtremities } from '../storage/dag.ts';
import type { EventWriter, NewEvent } from './persister/index.ts';
import type { Membership } from './membership.ts';
import type { LoadedState } from './room-state.ts';
import { upgradedPowerLevels } from './upgrade-power-levels.ts';

export interface RoomUpgradeDeps {
  sql: Sql;
  serverName: string;
  writer: EventWriter;
  membership: Membership;
  profileOf: (userId: string) => Promise<{ displayname?: string; avatar_url?: string }>;
}

/** State carried into the replacement room: the spec's recommended list. */
const COPIED_STATE = [
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.name',
  'm.room.topic',
  'm.room.avatar',
  'm.room.encryption',
  'm.room.server_acl',
];

/**
 * POST /rooms/{roomId}/upgrade, following the spec's server behaviour and
 * Synapse's choices where the spec leaves them open:
 * 1. the upgrader must be able to send m.room.tombstone in the old room;
 * 2. the new room's create event names its predecessor and keeps the room type;
 * 3. the recommended state, space children and bans are copied, the power levels
 *    adjusted for the versions' creator rules (see upgradedPowerLevels);
 * 4. local aliases move, and the canonical alias follows them;
 * 5. the old room gets a tombstone, loses its local aliases from its canonical
 *    alias and leaves the directory; 6. its events_default and invite rise to
 *    max(50, users_default + 1) so it goes quiet.
 * Steps after the tombstone are best-effort: the upgrade already happened.
 */
export function createRoomUpgrader({ sql, serverName, writer, membership, profileOf }: RoomUpgradeDeps) {
  const inFlight = new Map<string, Promise<string>>();

  async function assertCanTombstone(userId: string, state: LoadedState, version: RoomVersion): Promise<void> {
    const forbidden = new MatrixError(403, 'M_FORBIDDEN', 'You cannot upgrade this room');
    if (state.get('m.room.member', userId)?.content.membership !== 'join') throw forbidden;
    const needed = requiredPowerLevel('m.room.tombstone', true, currentPowerLevels(state.get, version));
    if (userPowerLevel(userId, state.get, version) < needed) throw forbidden;
  }

  /** The old room's canonical alias content split into what stays and what moves with the local aliases. */
  function splitCanonicalAlias(content: JsonObject | undefined, moved: ReadonlySet<string>): { old?: JsonObject; new?: JsonObject } {
    if (!content) return {};
    const isMoved = (a: unknown): a is string => typeof a === 'string' && moved.has(a);
    const alt = Array.isArray(content.alt_aliases) ? content.alt_aliases : [];
    const newContent: JsonObject = {};
    if (isMoved(content.alias)) newContent.alias = content.alias;
    const movedAlt = alt.filter(isMoved);
    if (movedAlt.length > 0) newContent.alt_aliases = movedAlt;
    if (Object.keys(newContent).length === 0) return {};
    const oldContent: JsonObject = { ...content };
    if (isMoved(content.alias)) delete oldContent.alias;
    if (Array.isArray(content.alt_aliases)) oldContent.alt_aliases = alt.filter((a) => !isMoved(a));
    return { old: oldContent, new: newContent };
  }

  async function bestEffort(ev: NewEvent): Promise<void> {
    await writer.send(ev).catch((e: unknown) => {
      if (!(e instanceof MatrixError && e.status === 403)) throw e;
    });
  }

  async function upgrade(userId: string, oldRoomId: string, newVersionId: string, extraCreators: string[]): Promise<string> {
    const version = roomVersion(newVersionId);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${newVersionId} is not supported`);
    const { room: oldRoom, version: oldVersion, state } = await membership.currentState(oldRoomId);
    await assertCanTombstone(userId, state, oldVersion);

    const oldCreate = state.get('m.room.create', '');
    const additional = version.privilegedCreators ? [...new Set(extraCreators)].filter((u) => u !== userId) : [];
    const createContent: JsonObject = { room_version: version.id };
    if (!version.implicitRoomCreator) createContent.creator = userId;
    if (additional.length > 0) createContent.additional_creators = additional;
    if (typeof oldCreate?.content.type === 'string') createContent.type = oldCreate.content.type;
    if (oldCreate?.content['m.federate'] === false) createContent['m.federate'] = false;
    // v12 rooms name only the predecessor room (the spec lets them omit event_id); older ones also its last event.
    const lastEvent = (await getForwardExtremities(sql, oldRoomId))[0];
    createContent.predecessor = { room_id: oldRoomId, ...(!version.roomIdFromCreateEvent && lastEvent ? { event_id: lastEvent } : {}) };

    const newCreators = new Set([userId, ...additional]);
    const power = upgradedPowerLevels(state.get('m.room.power_levels', '')?.content, {
      actor: userId,
      oldPrivileged: oldVersion.privilegedCreators,
      newPrivileged: version.privilegedCreators,
      oldCreators: roomCreators(oldCreate, oldVersion),
      newCreators,
    });
    // A ban is copied only where the auth rules allow it: the target must rank below the upgrader.
    const initialUsers = (power.initial.users ?? {}) as JsonObject;
    const usersDefault = typeof power.initial.users_default === 'number' ? power.initial.users_default : 0;
    const levelOf = (u: string): number =>
      version.privilegedCreators && newCreators.has(u) ? Infinity : typeof initialUsers[u] === 'number' ? initialUsers[u] : usersDefault;
    const localAliases = new Set(await aliasesOf(sql, oldRoomId));
    const canonical = splitCanonicalAlias(state.get('m.room.canonical_alias', '')?.content, localAliases);

    const events: Array<Omit<NewEvent, 'roomId'>> = [];
    const put = (type: string, content: JsonObject, stateKey = '') => events.push({ type, stateKey, content, sender: userId });
    put('m.room.member', { membership: 'join', ...(await profileOf(userId)) }, userId);
    put('m.room.power_levels', power.initial);
    if (canonical.new) put('m.room.canonical_alias', canonical.new);
    for (const type of COPIED_STATE) {
      const ev = state.get(type, '');
      if (ev) put(type, ev.content);
    }
    for (const ev of state.events()) {
      if (createContent.type === 'm.space' && ev.type === 'm.space.child' && Object.keys(ev.content).length > 0)
        put(ev.type, ev.content, ev.state_key);
      if (ev.type === 'm.room.member' && ev.content.membership === 'ban' && levelOf(ev.state_key!) < levelOf(userId))
        put(ev.type, banContent(ev), ev.state_key);
    }
    if (power.final) put('m.room.power_levels', power.final);

    const idForOld = `!${randomId(18, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')}:${serverName}`;
    const roomType = typeof createContent.type === 'string' ? createContent.type : null;
    const { roomId: newRoomId } = await writer.createRoom(
      userId,
      version,
      createContent,
      idForOld,
      { isPublic: oldRoom.is_public, roomType },
      events,
      async (tx, id) => {
        await moveAliases(tx, oldRoomId, id);
        if (oldRoom.is_public) await setRoomPublic(tx, oldRoomId, false);
      },
    );

    await writer.send({
      roomId: oldRoomId,
      type: 'm.room.tombstone',
      stateKey: '',
      sender: userId,
      content: { body: 'This room has been replaced', replacement_room: newRoomId },
    });
    if (canonical.old)
      await bestEffort({ roomId: oldRoomId, type: 'm.room.canonical_alias', stateKey: '', sender: userId, content: canonical.old });
    await restrictOldRoom(userId, oldRoomId);
    return newRoomId;
  }

  async function restrictOldRoom(userId: string, roomId: string): Promise<void> {
    const { state } = await membership.currentState(roomId);
    const pl = state.get('m.room.power_levels', '');
    if (!pl) return;
    const usersDefault = typeof pl.content.users_default === 'number' ? pl.content.users_default : 0;
    const restricted = Math.max(50, usersDefault + 1);
    const next: JsonObject = { ...pl.content };
    let changed = false;
    for (const key of ['events_default', 'invite']) {
      const current = typeof next[key] === 'number' ? next[key] : 0;
      if (current < restricted) {
        next[key] = restricted;
        changed = true;
      }
    }
    if (changed) await bestEffort({ roomId, type: 'm.room.power_levels', stateKey: '', sender: userId, content: next });
  }

  return {
    /** Concurrent identical requests (a double click) share one upgrade. */
    async upgrade(userId: string, roomId: string, newVersion: string, additionalCreators: string[] = []): Promise<string> {
      for (const u of additionalCreators) {
        if (!isValidUserId(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user ID in additional_creators: ${u}`);
      }
      const key = JSON.stringify([userId, roomId, newVersion, [...additionalCreators].sort()]);
      let p = inFlight.get(key);
      if (!p) {
        p = upgrade(userId, roomId, newVersion, additionalCreators).finally(() => inFlight.delete(key));
        inFlight.set(key, p);
      }
      return p;
    },
  };
}

function banContent(ev: Pdu): JsonObject {
  return { membership: 'ban', ...(typeof ev.content.reason === 'string' ? { reason: ev.content.reason } : {}) };
}

export type RoomUpgrader = ReturnType<typeof createRoomUpgrader>;
