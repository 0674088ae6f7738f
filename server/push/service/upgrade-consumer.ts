import type { Consumer } from '../../domain-events/index.ts';
import type { PushRules } from './push-rules.ts';

export interface UpgradeConsumerDeps {
  pushRules: PushRules;
  /** The room a room replaces (its create event's predecessor), if any. */
  predecessorOf: (roomId: string) => Promise<string | undefined>;
}

/**
 * A user's push rules follow them into an upgraded room: on their join to a room that replaces
 * another, their rules about the old room are repeated for the new one. On the join, not on the
 * upgrade, so it covers every member who follows (and the creator of a room made by hand with a
 * predecessor). Idempotent: a rule already there is left alone.
 */
export function upgradeConsumer({ pushRules, predecessorOf }: UpgradeConsumerDeps): Consumer<'room.membership_changed'> {
  return {
    name: 'push.copy_rules_on_upgrade',
    types: ['room.membership_changed'],
    async handle({ payload: { roomId, userId, membership, prevMembership } }) {
      if (membership !== 'join' || prevMembership === 'join') return;
      const from = await predecessorOf(roomId);
      if (from) await pushRules.copyRoomRules(userId, from, roomId);
    },
  };
}
