/**
 * State resolution v1 (room version 1; spec: content/rooms/v1.md "State
 * resolution"). Pure and synchronous, like v2: the caller makes every event
 * of the state sets available through `fetchEvent`.
 *
 * The algorithm is known to reset state (the reason v2 exists); it is
 * implemented as written, not improved, because every server in a v1 room
 * must reach the same answer.
 */
import { MissingEventsError } from './missing-events.ts';
import { createHash } from 'node:crypto';
import { splitStateKey, stateKey, type Pdu, type StateKey, type StateMap } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import type { AuthCheck, AuthStateLookup, FetchEvent } from './types.ts';

/** The auth-relevant types, resolved in this order before everything else. */
const AUTH_TYPES = ['m.room.power_levels', 'm.room.join_rules', 'm.room.member'] as const;

export interface PartitionedStateV1 {
  /** Keys whose every state that has them agrees (a key missing from some states is not a conflict). */
  unconflicted: StateMap;
  /** Keys given different event ids by different states, with those ids. */
  conflicted: Map<StateKey, Set<string>>;
}

/**
 * "A conflict occurs between states where those states have different
 * event_ids for the same (event_type, state_key)": unlike v2, a key that some
 * states lack is not conflicted by that alone, so R starts from their union.
 */
export function partitionStateV1(stateSets: readonly ReadonlyMap<StateKey, string>[]): PartitionedStateV1 {
  const values = new Map<StateKey, Set<string>>();
  for (const set of stateSets) {
    for (const [key, id] of set) {
      let ids = values.get(key);
      if (!ids) values.set(key, (ids = new Set()));
      ids.add(id);
    }
  }
  const unconflicted: StateMap = new Map();
  const conflicted = new Map<StateKey, Set<string>>();
  for (const [key, ids] of values) {
    if (ids.size === 1) unconflicted.set(key, [...ids][0]!);
    else conflicted.set(key, ids);
  }
  return { unconflicted, conflicted };
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** Ascending depth, then descending sha1(event_id): the order auth events are tried in. */
export function compareAuthEventsV1(a: Pdu, b: Pdu): number {
  if (a.depth !== b.depth) return a.depth - b.depth;
  const ha = sha1Hex(a.event_id);
  const hb = sha1Hex(b.event_id);
  return ha < hb ? 1 : ha > hb ? -1 : 0;
}

/** Descending depth, then ascending sha1(event_id): the order other events are tried in. */
export function compareOtherEventsV1(a: Pdu, b: Pdu): number {
  return compareAuthEventsV1(b, a);
}

function lookupIn(state: StateMap, fetchEvent: FetchEvent): AuthStateLookup {
  return (type, key) => {
    const id = state.get(stateKey(type, key));
    return id === undefined ? undefined : fetchEvent(id);
  };
}

function fetchAll(ids: Iterable<string>, fetchEvent: FetchEvent): Pdu[] {
  const out: Pdu[] = [];
  for (const id of ids) {
    const e = fetchEvent(id);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Resolves a set of room states into one, per room version 1.
 *
 * Conflicts of the auth types (power levels, then join rules, then members)
 * are resolved key by key: the candidates sorted by ascending depth and
 * descending sha1(event_id), the first one taken as is, each next one applied
 * while it passes the auth rules against the state so far (the first failure
 * ends that key). Every other conflicted key gets the candidate with the
 * highest depth and lowest sha1(event_id) that passes auth; a key none passes
 * is left out. Within a type, keys go in code-unit order so that the result
 * does not depend on the order of the input.
 *
 * Events the caller cannot fetch are ignored: they can neither be ordered
 * nor authorised.
 */
export function resolveStateV1(
  stateSets: readonly StateMap[],
  fetchEvent: FetchEvent,
  version: RoomVersion,
  checkAuth: AuthCheck,
): StateMap {
  const { unconflicted, conflicted } = partitionStateV1(stateSets);
  const resolved: StateMap = new Map(unconflicted);
  if (conflicted.size === 0) return resolved;
  // A conflicted event we cannot fetch fails the resolution (the caller fetches it), never silently loses.
  const missing = [...conflicted.values()].flatMap((ids) => [...ids]).filter((id) => !fetchEvent(id));
  if (missing.length > 0) throw new MissingEventsError(missing, 'events for state resolution');
  const lookup = lookupIn(resolved, fetchEvent);
  const keys = [...conflicted.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  for (const type of AUTH_TYPES) {
    for (const key of keys) {
      if (splitStateKey(key)[0] !== type) continue;
      const [first, ...rest] = fetchAll(conflicted.get(key)!, fetchEvent).sort(compareAuthEventsV1);
      if (!first) continue;
      resolved.set(key, first.event_id);
      for (const event of rest) {
        if (!checkAuth(event, lookup, version).allowed) break;
        resolved.set(key, event.event_id);
      }
    }
  }

  for (const key of keys) {
    if ((AUTH_TYPES as readonly string[]).includes(splitStateKey(key)[0])) continue;
    const candidates = fetchAll(conflicted.get(key)!, fetchEvent).sort(compareOtherEventsV1);
    const winner = candidates.find((event) => checkAuth(event, lookup, version).allowed);
    if (winner) resolved.set(key, winner.event_id);
  }
  return resolved;
}
