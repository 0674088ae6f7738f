import { currentPowerLevels, requiredPowerLevel, userPowerLevel } from '../../../federation/auth/index.ts';
import type { Membership } from './membership.ts';

export interface DirectoryActor {
  userId: string;
  isAdmin: boolean;
}

/**
 * Who may publish a room in the directory or delete someone else's alias of it:
 * a server admin, or a joined member with the power to send
 * m.room.canonical_alias, the state event that advertises a room's addresses.
 * Synapse draws the same line (check_can_change_room_list); it is "changing
 * how the room is found", which the canonical alias level already guards.
 */
export async function canEditDirectory(membership: Membership, actor: DirectoryActor, roomId: string): Promise<boolean> {
  if (actor.isAdmin) return true;
  const { state, version } = await membership.currentState(roomId);
  if (state.get('m.room.member', actor.userId)?.content.membership !== 'join') return false;
  const needed = requiredPowerLevel('m.room.canonical_alias', true, currentPowerLevels(state.get, version));
  return userPowerLevel(actor.userId, state.get, version) >= needed;
}
