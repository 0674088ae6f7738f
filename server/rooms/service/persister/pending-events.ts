import type { Tx } from '../../../db/database.ts';
import type { StoredEvent } from '../../storage/events.ts';
import type { RoomState } from '../room-state.ts';

/**
 * `roomState` that also knows the events its transaction wrote: uncommitted, they
 * are in no cache yet, and reading them back would cost a round trip each.
 */
export function withPending(roomState: RoomState, pending: ReadonlyMap<string, StoredEvent>): RoomState {
  if (pending.size === 0) return roomState;
  const loadEvents = async (tx: Tx, ids: readonly string[]): Promise<Map<string, StoredEvent>> => {
    const rest = ids.filter((id) => !pending.has(id));
    const loaded = rest.length > 0 ? await roomState.loadEvents(tx, rest) : new Map<string, StoredEvent>();
    const out = new Map<string, StoredEvent>();
    for (const id of ids) {
      const e = pending.get(id) ?? loaded.get(id);
      if (e) out.set(id, e);
    }
    return out;
  };
  return { ...roomState, loadEvents, loadEvent: async (tx, id) => (await loadEvents(tx, [id])).get(id) };
}
