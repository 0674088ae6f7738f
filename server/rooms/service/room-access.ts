import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { isRoomForgotten } from '../storage/forgotten.ts';
import { getRoom, membershipsOf } from '../storage/rooms.ts';
import { getCurrentStateGroup } from '../storage/dag.ts';
import type { RoomState } from './room-state.ts';
import type { Visibility } from './visibility.ts';

export interface RoomView {
  roomId: string;
  membership: string | undefined;
  /** State group to read room state from: current if in the room, as of leaving otherwise. */
  stateGroup: number | null;
  /** Newest stream position the viewer may read up to. */
  upTo: number;
}

/**
 * What a user may read of a room: a member reads the current room; someone
 * who left (and did not forget it) reads it as it was when they left; anyone
 * reads a world_readable room.
 */
export function createRoomAccess(sql: Sql, roomState: RoomState, visibility: Visibility) {
  return async function viewRoom(userId: string, roomId: string): Promise<RoomView> {
    const room = await getRoom(sql, roomId);
    if (!room) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to view this room');
    const current = { roomId, stateGroup: (await getCurrentStateGroup(sql, roomId)) ?? null, upTo: Number.MAX_SAFE_INTEGER };
    const mine = (await membershipsOf(sql, userId)).find((m) => m.room_id === roomId);
    if (mine?.membership === 'join') return { ...current, membership: 'join' };
    // A forgotten room is as if never joined: its history is gone for the user (world_readable aside).
    if (mine && (mine.membership === 'leave' || mine.membership === 'ban') && !(await isRoomForgotten(sql, userId, roomId))) {
      const ev = await roomState.loadEvent(sql, mine.event_id);
      // Only someone who was once joined saw anything of the room.
      if (ev) return { roomId, membership: mine.membership, stateGroup: ev.stateGroup, upTo: ev.streamPos };
    }
    if ((await visibility.visibilityAt(sql, current.stateGroup)) === 'world_readable') return { ...current, membership: mine?.membership };
    if (mine && (mine.membership === 'invite' || mine.membership === 'knock')) return { ...current, membership: mine.membership };
    throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to view this room');
  };
}

export type ViewRoom = ReturnType<typeof createRoomAccess>;
