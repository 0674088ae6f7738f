import { matchesFilter } from '../../../matrix/index.ts';
import type { SyncPass } from './pass.ts';

export type Membership = { room_id: string; membership: string; event_id: string; stream_pos: number };

/** Which rooms the pass covers: the user's memberships at upTo that the room filter keeps. */
export interface RoomSet {
  all: Membership[];
  wanted: Membership[];
  joinedIds: string[];
  ignored: Set<string>;
  forgotten: Set<string>;
}

export async function roomSet(pass: SyncPass): Promise<RoomSet> {
  const { sql, src, viewer, filter, upTo } = pass;
  // Independent reads: one round trip (queries on one connection are pipelined).
  const [ignored, all, forgotten] = await Promise.all([
    src.ignoredUsers(sql, viewer.userId),
    src.memberships(sql, viewer.userId),
    src.forgotten(sql, viewer.userId),
  ]);
  const roomSelector = { rooms: filter.room?.rooms, not_rooms: filter.room?.not_rooms };
  const wanted = all.filter(
    (m) => m.stream_pos <= upTo.pos && matchesFilter(roomSelector, { type: '', sender: '', content: {} }, m.room_id),
  );
  const joinedIds = wanted.filter((m) => m.membership === 'join').map((m) => m.room_id);
  return { all, wanted, joinedIds, ignored, forgotten };
}
