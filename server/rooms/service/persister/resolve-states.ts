import { checkEventAuth } from '../../../../federation/auth/index.ts';
import type { Pdu, StateMap } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import {
  MissingEventsError,
  partitionState,
  partitionStateV1,
  resolveState,
  resolveStateV1,
} from '../../../../federation/state-res/index.ts';
import type { Tx } from '../../../db/database.ts';
import { AuthChainIndexError, authChainIds, authDifference } from '../../storage/auth-chains.ts';
import type { StoredEvent } from '../../storage/events.ts';
import type { RoomState } from '../room-state.ts';

/** Rounds of "load what the resolver asked for and run it again" before loading everything instead. */
const MAX_ROUNDS = 8;

/**
 * Resolves several room states into one with the room version's algorithm.
 *
 * The pure resolver is synchronous, so whatever it reads must be loaded first.
 * The state sets' whole auth chains (every member event since the room began,
 * in a big room) would do, but v2 needs few of them: the auth difference comes
 * from the auth-chain index in one query, and the resolver is run on the state
 * sets and that difference. Any event it asked for and did not have is loaded,
 * with its auth chain, and it runs again; only a run that asked for nothing
 * missing is taken. An event that is not stored at all fails the resolution
 * with MissingEventsError rather than being left out.
 */
export async function resolveStates(tx: Tx, roomState: RoomState, stateSets: readonly StateMap[], version: RoomVersion): Promise<StateMap> {
  if (stateSets.length === 1) return new Map(stateSets[0]);
  const { unconflicted, conflicted } = version.stateRes === 'v1' ? partitionStateV1(stateSets) : partitionState(stateSets);
  if (conflicted.size === 0) return new Map(unconflicted);
  const stateIds = [...new Set(stateSets.flatMap((s) => [...s.values()]))];
  if (version.stateRes === 'v1') {
    const loaded = await loadWithAuthChains(tx, roomState, stateIds);
    return resolveStateV1(stateSets, (id) => loaded.get(id)?.pdu, version, checkEventAuth);
  }

  let difference: Set<string>;
  try {
    difference = await authDifference(
      tx,
      stateSets.map((s) => [...s.values()]),
    );
  } catch (err) {
    if (!(err instanceof AuthChainIndexError)) throw err;
    // Some state event is not in the index: the resolver computes the difference from whole chains.
    const loaded = await loadWithAuthChains(tx, roomState, stateIds);
    return resolveV2(stateSets, loaded, version);
  }

  const loaded = new Map<string, StoredEvent>();
  await loadInto(tx, roomState, loaded, [...stateIds, ...difference]);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const asked = new Set<string>();
    let result: StateMap | undefined;
    let failure: unknown;
    try {
      result = resolveV2(stateSets, loaded, version, difference, asked);
    } catch (err) {
      failure = err;
    }
    if (asked.size === 0) {
      if (result) return result;
      throw failure;
    }
    // What it asked for may lead it to more: each missing event comes with its whole auth chain.
    const more = [...asked];
    let chains: Set<string>;
    try {
      chains = await authChainIds(tx, more);
    } catch (err) {
      if (!(err instanceof AuthChainIndexError)) throw err;
      chains = new Set();
    }
    const missing = await loadInto(tx, roomState, loaded, [...more, ...chains]);
    const absent = more.filter((id) => missing.has(id));
    if (absent.length > 0) throw new MissingEventsError(absent, 'events for state resolution');
  }
  // Never expected (each round loads whole chains); correct regardless.
  return resolveV2(stateSets, await loadWithAuthChains(tx, roomState, stateIds), version);
}

function resolveV2(
  stateSets: readonly StateMap[],
  loaded: ReadonlyMap<string, StoredEvent>,
  version: RoomVersion,
  difference?: ReadonlySet<string>,
  asked?: Set<string>,
): StateMap {
  const fetchEvent = (id: string): Pdu | undefined => {
    const e = loaded.get(id);
    if (!e) asked?.add(id);
    return e?.pdu;
  };
  return resolveState(stateSets, fetchEvent, version, checkEventAuth, {
    isRejected: (id) => loaded.get(id)?.rejectedReason != null,
    ...(difference ? { authDifference: difference } : {}),
  });
}

/** Loads `ids` not yet in `loaded` into it; returns those that are not stored. */
async function loadInto(tx: Tx, roomState: RoomState, loaded: Map<string, StoredEvent>, ids: readonly string[]): Promise<Set<string>> {
  const wanted = [...new Set(ids)].filter((id) => !loaded.has(id));
  const found = await roomState.loadEvents(tx, wanted);
  for (const [id, e] of found) loaded.set(id, e);
  return new Set(wanted.filter((id) => !found.has(id)));
}

/** The events and their whole auth chains, walked level by level; any not stored fails the resolution. */
async function loadWithAuthChains(tx: Tx, roomState: RoomState, ids: readonly string[]): Promise<Map<string, StoredEvent>> {
  const loaded = new Map<string, StoredEvent>();
  const missing: string[] = [];
  let frontier = [...new Set(ids)];
  while (frontier.length > 0) {
    for (const id of await loadInto(tx, roomState, loaded, frontier)) missing.push(id);
    const next = new Set<string>();
    for (const id of frontier) for (const a of loaded.get(id)?.pdu.auth_events ?? []) if (!loaded.has(a)) next.add(a);
    frontier = [...next].filter((id) => !missing.includes(id));
  }
  if (missing.length > 0) throw new MissingEventsError(missing, 'events for state resolution');
  return loaded;
}
