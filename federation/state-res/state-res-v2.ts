/**
 * State resolution v2 (room versions 2–11; here 10 and 11) and v2.1 (room
 * version 12), per the spec's rooms/v2 "State resolution" and rooms/v12
 * sections. Pure and synchronous: the caller must make every event in the
 * state sets and their auth chains available through `fetchEvent`.
 */
import { stateKey, type StateMap } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { authChainUnion, authDifference, conflictedStateSubgraph, fullAuthChain } from './auth-chain.ts';
import { isPowerEvent, POWER_LEVELS } from './events.ts';
import { iterativeAuthChecks, type IterativeAuthContext } from './iterative-auth.ts';
import { mainlineOrder, reverseTopologicalPowerOrder } from './ordering.ts';
import { partitionState } from './partition.ts';
import { senderPowerLevelFromAuthEvents } from './power.ts';
import type { AuthCheck, FetchEvent, ResolveStateOptions } from './types.ts';
import { MissingEventsError } from './missing-events.ts';

/**
 * The "full conflicted set": conflicted state set ∪ auth difference, and for
 * v2.1 also ∪ conflicted state subgraph. An id we cannot fetch fails the
 * resolution: leaving it out would give a state other servers do not reach,
 * so the caller must fetch it and try again.
 */
export function fullConflictedSet(
  stateSets: readonly StateMap[],
  conflicted: ReadonlySet<string>,
  fetchEvent: FetchEvent,
  version: RoomVersion,
  options: Pick<ResolveStateOptions, 'authChainOf' | 'authDifference'> = {},
): Set<string> {
  const difference =
    options.authDifference ?? authDifference(stateSets.map((set) => fullAuthChain(set.values(), fetchEvent, options.authChainOf)));
  const full = new Set<string>([...conflicted, ...difference]);
  if (version.stateResV21) for (const id of conflictedStateSubgraph(conflicted, fetchEvent)) full.add(id);
  const missing = [...full].filter((id) => !fetchEvent(id));
  if (missing.length > 0) throw new MissingEventsError(missing, 'events for state resolution');
  return full;
}

/**
 * Resolves a set of room states into one (the state before an event with
 * these states after its prev_events).
 *
 * @param stateSets  the states S_i to resolve
 * @param fetchEvent every event in the states and their auth chains
 * @param version    selects v2 (`stateResV21` false) or v2.1
 * @param checkAuth  the authorisation rules (federation/auth `checkEventAuth`)
 */
export function resolveState(
  stateSets: readonly StateMap[],
  fetchEvent: FetchEvent,
  version: RoomVersion,
  checkAuth: AuthCheck,
  options: ResolveStateOptions = {},
): StateMap {
  const { unconflicted, conflicted } = partitionState(stateSets);
  // Nothing conflicted means every S_i is identical, so every auth chain is
  // too: the full conflicted set is empty and the result is the input.
  if (conflicted.size === 0) return unconflicted;

  const full = fullConflictedSet(stateSets, conflicted, fetchEvent, version, options);
  const powerOf = options.senderPowerLevel ?? senderPowerLevelFromAuthEvents;
  const ctx: IterativeAuthContext = { fetchEvent, version, checkAuth };
  if (options.isRejected) ctx.isRejected = options.isRejected;

  // Step 1: X = power events in the full conflicted set, enlarged with the
  // events of their auth chains that are also in the full conflicted set,
  // sorted by reverse topological power ordering.
  const powerEvents = [...full].filter((id) => {
    const event = fetchEvent(id);
    return event !== undefined && isPowerEvent(event);
  });
  const selected = new Set(powerEvents);
  for (const id of authChainUnion(powerEvents, fetchEvent, options.authChainOf)) {
    if (full.has(id)) selected.add(id);
  }
  const sortedPower = reverseTopologicalPowerOrder(selected, fetchEvent, (event) => powerOf(event, fetchEvent, version));

  // Step 2: iterative auth checks over that list, starting from the
  // unconflicted state map (v2) or from an empty state map (v2.1, v12 change 1).
  const base: StateMap = version.stateResV21 ? new Map() : unconflicted;
  const partial = iterativeAuthChecks(base, sortedPower, ctx);

  // Step 3: the remaining events of the full conflicted set, in mainline
  // ordering based on the power levels event of the partially resolved state.
  const remaining = [...full].filter((id) => !selected.has(id));
  const sortedRest = mainlineOrder(remaining, partial.get(stateKey(POWER_LEVELS, '')), fetchEvent);

  // Step 4: iterative auth checks over those, continuing from the partial state.
  const resolved = iterativeAuthChecks(partial, sortedRest, ctx);

  // Step 5: the unconflicted state map wins for every key it has.
  for (const [key, id] of unconflicted) resolved.set(key, id);
  return resolved;
}
