import { splitStateKey, type StateMap } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { Tx } from '../../../db/database.ts';
import { createStateGroup, loadStateGroup, stateGroupChainLen, type StateEntry } from '../../storage/state.ts';
import type { StoredEvent } from '../../storage/events.ts';
import type { LoadedState, RoomState } from '../room-state.ts';
import { MissingEventsError } from '../../../../federation/state-res/index.ts';
import { resolveStates } from './resolve-states.ts';

/** A room state with the state group that holds it (null: the empty state before a create event). */
export interface GroupedState extends LoadedState {
  group: number | null;
}

/**
 * The state before an event: the state after its prev event, or the resolution
 * of the states after each of its prev events when there are several.
 */
export async function stateBeforeEvent(
  tx: Tx,
  roomState: RoomState,
  roomId: string,
  prevEventIds: readonly string[],
  version: RoomVersion,
): Promise<GroupedState> {
  if (prevEventIds.length === 0) return { group: null, ...(await roomState.loadState(tx, null)) };
  const prevs = await roomState.loadEvents(tx, prevEventIds);
  const missing = prevEventIds.filter((id) => !prevs.has(id));
  if (missing.length > 0) throw new MissingEventsError(missing, 'prev events');
  return stateOfEvents(tx, roomState, roomId, [...prevs.values()], version);
}

/** The state after a set of events (e.g. the room's forward extremities), as one state group. */
export async function stateOfEvents(
  tx: Tx,
  roomState: RoomState,
  roomId: string,
  events: readonly StoredEvent[],
  version: RoomVersion,
): Promise<GroupedState> {
  const outliers = events.filter((e) => e.stateGroup === null).map((e) => e.pdu.event_id);
  if (outliers.length > 0) throw new MissingEventsError(outliers, 'state at prev events (outliers)');
  const groups = [...new Set(events.map((e) => e.stateGroup as number))];
  if (groups.length === 1) return { group: groups[0]!, ...(await roomState.loadState(tx, groups[0]!)) };
  const sets = await Promise.all(groups.map((g) => roomState.stateIds(tx, g)));
  const resolved = await resolveStates(tx, roomState, sets, version);
  const group = await groupForState(tx, roomId, groups[0]!, sets[0]!, resolved);
  return { group, ...(await roomState.loadState(tx, group)) };
}

/** Stores a state given as a full map: a delta on `baseGroup` where it only adds or replaces, else a snapshot. */
export async function groupForState(tx: Tx, roomId: string, baseGroup: number, base: StateMap, state: StateMap): Promise<number> {
  const delta: StateEntry[] = [];
  for (const [k, id] of state) {
    if (base.get(k) === id) continue;
    const [type, key] = splitStateKey(k);
    delta.push({ type, state_key: key, event_id: id });
  }
  const removes = [...base.keys()].some((k) => !state.has(k));
  if (!removes && delta.length === 0) return baseGroup;
  if (removes) {
    const all = [...state].map(([k, event_id]) => {
      const [type, key] = splitStateKey(k);
      return { type, state_key: key, event_id };
    });
    return createStateGroup(tx, roomId, null, all, async () => []);
  }
  const prev = { id: baseGroup, chainLen: await stateGroupChainLen(tx, baseGroup) };
  return createStateGroup(tx, roomId, prev, delta, () => loadStateGroup(tx, baseGroup));
}
