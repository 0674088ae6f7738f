import { checkEventAuth } from '../../../../federation/auth/index.ts';
import type { StateMap } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import { partitionState, partitionStateV1, resolveState, resolveStateV1 } from '../../../../federation/state-res/index.ts';
import type { Tx } from '../../../db/database.ts';
import type { StoredEvent } from '../../storage/events.ts';
import type { RoomState } from '../room-state.ts';
import { MissingEventsError } from '../../../../federation/state-res/index.ts';

/**
 * Resolves several room states into one with the room version's algorithm.
 * The pure resolver is synchronous, so every event it may read (the state sets
 * and their whole auth chains) is loaded first; one that is not stored fails the
 * resolution with MissingEventsError rather than being left out.
 */
export async function resolveStates(tx: Tx, roomState: RoomState, stateSets: readonly StateMap[], version: RoomVersion): Promise<StateMap> {
  if (stateSets.length === 1) return new Map(stateSets[0]);
  const { unconflicted, conflicted } = version.stateRes === 'v1' ? partitionStateV1(stateSets) : partitionState(stateSets);
  if (conflicted.size === 0) return new Map(unconflicted);

  const loaded = new Map<string, StoredEvent>();
  let frontier = [...new Set(stateSets.flatMap((s) => [...s.values()]))];
  const missing: string[] = [];
  while (frontier.length > 0) {
    const found = await roomState.loadEvents(tx, frontier);
    const next = new Set<string>();
    for (const id of frontier) {
      const e = found.get(id);
      if (!e) {
        missing.push(id);
        continue;
      }
      loaded.set(id, e);
      for (const a of e.pdu.auth_events) if (!loaded.has(a) && !found.has(a)) next.add(a);
    }
    frontier = [...next].filter((id) => !loaded.has(id));
  }
  if (missing.length > 0) throw new MissingEventsError(missing, 'events for state resolution');

  const fetchEvent = (id: string) => loaded.get(id)?.pdu;
  if (version.stateRes === 'v1') return resolveStateV1(stateSets, fetchEvent, version, checkEventAuth);
  return resolveState(stateSets, fetchEvent, version, checkEventAuth, {
    isRejected: (id) => loaded.get(id)?.rejectedReason != null,
  });
}
