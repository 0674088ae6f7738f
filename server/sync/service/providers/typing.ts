import { blocksAll } from '../../../matrix/index.ts';
import { BLOCKED, type RoomStream, type SyncPass } from './pass.ts';

/** m.typing per joined room, from the typing serial (in memory, not the event stream). */
export function typingProvider(pass: SyncPass): RoomStream {
  if (blocksAll(pass.filter.room?.ephemeral)) return BLOCKED;
  const since = pass.since ? pass.since.typing : -1;
  return {
    touched: (roomId) => pass.src.typingSince(roomId, since) !== undefined,
    events(roomId) {
      const users = pass.src.typingSince(roomId, since);
      // An empty list matters only to a client that may have seen someone typing before.
      return users && (users.length > 0 || pass.since) ? [{ type: 'm.typing', content: { user_ids: users } }] : [];
    },
  };
}
