import type { Sql } from '../../db/database.ts';
import type { Consumer } from '../../domain-events/index.ts';
import { membershipsOf } from '../storage/rooms.ts';
import type { EventWriter } from './persister/index.ts';
import type { Membership } from './membership.ts';

export interface AccountConsumersDeps {
  sql: Sql;
  writer: EventWriter;
  membership: Membership;
  /** The account's profile now, or undefined once it is deactivated. */
  currentProfile: (userId: string) => Promise<{ displayname?: string; avatar_url?: string } | undefined>;
}

/**
 * What rooms does when an account changes. Both handlers are idempotent (the
 * outbox delivers at least once) and try every room before failing, so one room
 * that refuses does not hold back the others; the failure goes back to the
 * dispatcher, which retries, logs and counts it.
 */
export function accountConsumers({ sql, writer, membership, currentProfile }: AccountConsumersDeps) {
  const leaveOnDeactivation: Consumer<'account.deactivated'> = {
    name: 'rooms.leave_on_deactivation',
    types: ['account.deactivated'],
    async handle({ payload: { userId } }) {
      const rooms = (await membershipsOf(sql, userId)).filter((m) => ['join', 'invite', 'knock'].includes(m.membership));
      await eachRoom(
        userId,
        rooms.map((m) => m.room_id),
        (roomId) => membership.leave(userId, roomId),
      );
    },
  };

  const announceProfile: Consumer<'account.profile_changed'> = {
    name: 'rooms.announce_profile',
    types: ['account.profile_changed'],
    async handle({ payload: { userId } }) {
      // The profile as it is now, not as the event says: a late or repeated delivery
      // then converges on the newest profile, and a deactivated account is not re-joined.
      const profile = await currentProfile(userId);
      if (!profile) return;
      const joined = (await membershipsOf(sql, userId)).filter((m) => m.membership === 'join').map((m) => m.room_id);
      await eachRoom(userId, joined, async (roomId) => {
        const { state } = await membership.currentState(roomId);
        const current = state.get('m.room.member', userId)?.content ?? {};
        if (current.membership !== 'join') return;
        if (current.displayname === profile.displayname && current.avatar_url === profile.avatar_url) return;
        const { displayname: _d, avatar_url: _a, ...rest } = current;
        await writer.send({
          roomId,
          type: 'm.room.member',
          stateKey: userId,
          sender: userId,
          content: { ...rest, membership: 'join', ...profile },
        });
      });
    },
  };

  return [leaveOnDeactivation, announceProfile] as const;
}

async function eachRoom(userId: string, roomIds: string[], act: (roomId: string) => Promise<void>): Promise<void> {
  const failed: Array<{ roomId: string; err: unknown }> = [];
  for (const roomId of roomIds) {
    try {
      await act(roomId);
    } catch (err) {
      failed.push({ roomId, err });
    }
  }
  if (failed.length > 0) {
    const detail = failed.map((f) => `${f.roomId}: ${f.err instanceof Error ? f.err.message : String(f.err)}`).join('; ');
    throw new AggregateError(
      failed.map((f) => f.err),
      `${failed.length} of ${roomIds.length} rooms failed for ${userId}: ${detail}`,
    );
  }
}
