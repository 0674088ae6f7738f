/**
 * Splitting the input state sets into the unconflicted state map and the
 * conflicted state set (state res v2, Definitions).
 */
import type { StateKey, StateMap } from '../events/pdu.ts';

export interface PartitionedState {
  /** Keys present in every state set with the same event id. */
  unconflicted: StateMap;
  /** Every other event id, across all keys (a key may contribute several). */
  conflicted: Set<string>;
}

/**
 * "If a given key K is present in every S_i with the same value V in each
 * state map, then (K, V) belongs to the unconflicted state map. Otherwise, V
 * belongs to the conflicted state set." A key missing from some set is
 * therefore conflicted, with the values of the sets that have it.
 */
export function partitionState(stateSets: readonly ReadonlyMap<StateKey, string>[]): PartitionedState {
  const unconflicted: StateMap = new Map();
  const conflicted = new Set<string>();
  const keys = new Set<StateKey>();
  for (const set of stateSets) for (const key of set.keys()) keys.add(key);

  for (const key of keys) {
    const values = stateSets.map((set) => set.get(key));
    const first = values[0];
    if (first !== undefined && values.every((v) => v === first)) {
      unconflicted.set(key, first);
    } else {
      for (const v of values) if (v !== undefined) conflicted.add(v);
    }
  }
  return { unconflicted, conflicted };
}
