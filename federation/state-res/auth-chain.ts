/**
 * Auth chains, the auth difference and (v2.1) the conflicted state subgraph.
 * All walks are iterative (auth chains can be thousands of events deep).
 * Events the caller could not fetch simply end a walk: their ids are still
 * reported, their own auth events are not.
 */
import type { AuthChainOf, FetchEvent } from './types.ts';

/**
 * Union of the auth chains of `eventIds` (state res v2, "Auth chain": every
 * event reachable through `auth_events` links). A starting event is only
 * included if another starting event reaches it.
 */
export function authChainUnion(eventIds: Iterable<string>, fetchEvent: FetchEvent, authChainOf?: AuthChainOf): Set<string> {
  const chain = new Set<string>();
  if (authChainOf) {
    for (const id of eventIds) for (const a of authChainOf(id)) chain.add(a);
    return chain;
  }
  const stack: string[] = [];
  const pushAuthEvents = (id: string): void => {
    for (const a of fetchEvent(id)?.auth_events ?? []) {
      if (!chain.has(a)) {
        chain.add(a);
        stack.push(a);
      }
    }
  };
  for (const id of eventIds) pushAuthEvents(id);
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) pushAuthEvents(id);
  return chain;
}

/**
 * The auth chain of a single event, computed by walking `auth_events`.
 * Exported so callers can memoise it and pass it back as `authChainOf`.
 */
export function authChain(eventId: string, fetchEvent: FetchEvent): Set<string> {
  return authChainUnion([eventId], fetchEvent);
}

/**
 * The "full auth chain" C_i of one state set.
 *
 * Note: the state set's own events are included as well as their auth
 * chains. The spec's words ("the union of the auth chains for each event in
 * S_i") leave them out; including them only matters for events present in
 * every state set (unconflicted events), which then never enter the auth
 * difference. This is what the deployed reference implementation does (its
 * documented auth-chain-difference algorithm counts the state events as
 * reachable from their own set), so we follow it for convergence.
 */
export function fullAuthChain(stateEventIds: Iterable<string>, fetchEvent: FetchEvent, authChainOf?: AuthChainOf): Set<string> {
  const ids = [...stateEventIds];
  const chain = authChainUnion(ids, fetchEvent, authChainOf);
  for (const id of ids) chain.add(id);
  return chain;
}

/** "Auth difference": ∪ C_i − ∩ C_i over the full auth chains of the state sets. */
export function authDifference(chains: readonly ReadonlySet<string>[]): Set<string> {
  const difference = new Set<string>();
  for (const chain of chains) {
    for (const id of chain) {
      if (!chains.every((other) => other.has(id))) difference.add(id);
    }
  }
  return difference;
}

/**
 * v2.1 "Conflicted state subgraph": the union of all `auth_events` paths
 * between any two events of the conflicted state set, endpoints included.
 *
 * An event lies on such a path iff it is reachable from a conflicted event
 * (it is a conflicted event or in the auth chain of one) and a conflicted
 * event is reachable from it. The auth graph is a DAG, so a non-conflicted
 * event on a path always joins two distinct conflicted events. We compute the
 * first set by a forward walk, then the second by walking the reversed edges
 * (auth event -> events citing it) back from the conflicted events.
 */
export function conflictedStateSubgraph(conflicted: ReadonlySet<string>, fetchEvent: FetchEvent): Set<string> {
  const reachable = authChainUnion(conflicted, fetchEvent);
  for (const id of conflicted) reachable.add(id);

  const citedBy = new Map<string, string[]>();
  for (const id of reachable) {
    for (const a of fetchEvent(id)?.auth_events ?? []) {
      const list = citedBy.get(a);
      if (list) list.push(id);
      else citedBy.set(a, [id]);
    }
  }

  const subgraph = new Set<string>(conflicted);
  const stack = [...conflicted];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    for (const child of citedBy.get(id) ?? []) {
      if (!subgraph.has(child)) {
        subgraph.add(child);
        stack.push(child);
      }
    }
  }
  return subgraph;
}
