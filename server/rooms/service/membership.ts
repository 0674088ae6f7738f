import { canonicalJson } from '../../../federation/events/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { domainOf, userPowerLevel, currentPowerLevels } from '../../../federation/auth/index.ts';
import { roomVersion } from '../../../federation/room-versions.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { getAlias } from '../storage/aliases.ts';
import { getRoom, membersOf, membershipsOf } from '../storage/rooms.ts';
import { getCurrentStateGroup } from '../storage/dag.ts';
import { forgetRoom } from '../storage/forgotten.ts';
import type { EventWriter } from './persister/index.ts';
import type { RoomState } from './room-state.ts';

export interface MembershipDeps {
  sql: Sql;
  /** Our server name: only our own users can vouch for a restricted join, since only our signature goes on it. */
  serverName: string;
  writer: EventWriter;
  roomState: RoomState;
  profileOf: (userId: string) => Promise<{ displayname?: string; avatar_url?: string }>;
}

/** Joins, invites, leaves, kicks, bans and knocks: member events the auth rules decide on. */
export function createMembership({ sql, serverName, writer, roomState, profileOf }: MembershipDeps) {
  async function resolveRoom(roomIdOrAlias: string): Promise<string> {
    if (roomIdOrAlias.startsWith('#')) {
      const alias = await getAlias(sql, roomIdOrAlias);
      if (!alias) throw new MatrixError(404, 'M_NOT_FOUND', 'Room alias not found');
      return alias.room_id;
    }
    if (!roomIdOrAlias.startsWith('!')) throw new MatrixError(400, 'M_INVALID_PARAM', 'Expected a room ID or alias');
    return roomIdOrAlias;
  }

  async function currentState(roomId: string) {
    const room = await getRoom(sql, roomId);
    if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
    const group = (await getCurrentStateGroup(sql, roomId)) ?? null;
    return { room, version: roomVersion(room.room_version)!, state: await roomState.loadState(sql, group) };
  }

  function member(roomId: string, sender: string, target: string, content: JsonObject) {
    return writer.send({ roomId, type: 'm.room.member', stateKey: target, sender, content });
  }

  /**
   * For restricted rooms: a joined local user with the power to invite vouches
   * for the joiner, once the joiner is shown to be in one of the allowed rooms.
   * The auth rules accept the vouch only with a signature from the voucher's
   * server, and the event writer signs as us, so the voucher must be local.
   * Undefined when no vouch applies or none can be given; the auth rules then
   * refuse the join with 403.
   */
  async function authorisingUser(roomId: string, userId: string): Promise<string | undefined> {
    const { version, state } = await currentState(roomId);
    const rules = state.get('m.room.join_rules', '')?.content;
    const rule = rules?.join_rule;
    const restricted = (rule === 'restricted' && version.restrictedJoins) || (rule === 'knock_restricted' && version.knockRestricted);
    if (!restricted) return undefined;
    const mine = state.get('m.room.member', userId)?.content.membership;
    if (mine === 'join' || mine === 'invite') return undefined;
    const allow = Array.isArray(rules?.allow) ? rules.allow : [];
    const mineRooms = new Set((await membershipsOf(sql, userId)).filter((m) => m.membership === 'join').map((m) => m.room_id));
    const qualifies = allow.some(
      (a) =>
        a &&
        typeof a === 'object' &&
        !Array.isArray(a) &&
        a.type === 'm.room_membership' &&
        typeof a.room_id === 'string' &&
        mineRooms.has(a.room_id),
    );
    if (!qualifies) return undefined;
    const invite = currentPowerLevels(state.get, version).invite;
    for (const m of await membersOf(sql, roomId, 'join')) {
      if (domainOf(m.user_id) === serverName && userPowerLevel(m.user_id, state.get, version) >= invite) return m.user_id;
    }
    return undefined;
  }

  return {
    resolveRoom,
    /**
     * Joins with the client's content kept (a reason, a per-room displayname, custom
     * keys), over the user's profile; `membership` and the restricted-join
     * authoriser are the server's to set. Joining again with the same content is a
     * no-op, as clients retry joins.
     */
    async join(userId: string, roomIdOrAlias: string, custom: JsonObject = {}): Promise<string> {
      const roomId = await resolveRoom(roomIdOrAlias);
      const via = await authorisingUser(roomId, userId);
      const { membership: _membership, join_authorised_via_users_server: _via, third_party_signed: _signed, ...extra } = custom;
      const content: JsonObject = {
        ...(await profileOf(userId)),
        ...extra,
        membership: 'join',
        ...(via ? { join_authorised_via_users_server: via } : {}),
      };
      const current = (await currentState(roomId)).state.get('m.room.member', userId);
      if (current?.content.membership === 'join' && canonicalJson(current.content) === canonicalJson(content)) return roomId;
      await member(roomId, userId, userId, content);
      return roomId;
    },
    async invite(sender: string, roomId: string, target: string, reason?: string, isDirect?: boolean): Promise<void> {
      const { state } = await currentState(roomId);
      const current = state.get('m.room.member', target)?.content.membership;
      // Re-inviting someone already invited is a no-op, not an error (clients retry).
      if (current === 'invite') return;
      if (current === 'join') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is already in the room`);
      if (current === 'ban') throw new MatrixError(403, 'M_FORBIDDEN', `${target} is banned from the room`);
      await member(roomId, sender, target, {
        membership: 'invite',
        ...(reason ? { reason } : {}),
        ...(isDirect ? { is_direct: true } : {}),
      });
    },
    async leave(userId: string, roomId: string, reason?: string): Promise<void> {
      const { state } = await currentState(roomId);
      const current = state.get('m.room.member', userId)?.content.membership;
      if (current === undefined || current === 'leave') throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
      await member(roomId, userId, userId, { membership: 'leave', ...(reason ? { reason } : {}) });
    },
    async kick(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
      const { state } = await currentState(roomId);
      const current = state.get('m.room.member', target)?.content.membership;
      if (current !== 'join' && current !== 'invite' && current !== 'knock')
        throw new MatrixError(403, 'M_FORBIDDEN', `${target} is not in the room`);
      await member(roomId, sender, target, { membership: 'leave', ...(reason ? { reason } : {}) });
    },
    async ban(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
      await member(roomId, sender, target, { membership: 'ban', ...(reason ? { reason } : {}) });
    },
    async unban(sender: string, roomId: string, target: string, reason?: string): Promise<void> {
      const { state } = await currentState(roomId);
      if (state.get('m.room.member', target)?.content.membership !== 'ban')
        throw new MatrixError(403, 'M_FORBIDDEN', `${target} is not banned`);
      await member(roomId, sender, target, { membership: 'leave', ...(reason ? { reason } : {}) });
    },
    async knock(userId: string, roomIdOrAlias: string, reason?: string): Promise<string> {
      const roomId = await resolveRoom(roomIdOrAlias);
      await member(roomId, userId, userId, { membership: 'knock', ...(await profileOf(userId)), ...(reason ? { reason } : {}) });
      return roomId;
    },
    async forget(userId: string, roomId: string): Promise<void> {
      const mine = (await membershipsOf(sql, userId)).find((m) => m.room_id === roomId);
      if (mine && (mine.membership === 'join' || mine.membership === 'invite' || mine.membership === 'knock')) {
        throw new MatrixError(400, 'M_UNKNOWN', 'You must leave the room before forgetting it');
      }
      await forgetRoom(sql, userId, roomId);
    },
    currentState,
  };
}

export type Membership = ReturnType<typeof createMembership>;
