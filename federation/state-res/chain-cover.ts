/**
 * Chain cover planning for the auth-chain index (pure; the SQL lives in
 * server/rooms/storage/auth-chains.ts, which loads what this needs and writes what it returns).
 *
 * Every state event is put at (chain, seq). An event only ever extends a chain
 * whose current tip is one of its own auth events, so the auth chain of
 * (c, n) contains (c, 1..n-1): what an event reaches is one highest seq per
 * chain (a ReachVector). For each event we store only the entries of its
 * vector that grew compared with its predecessor on the chain; the vector of
 * (c, n) is the per-target maximum over the rows of chain c with seq <= n.
 *
 * Why this shape rather than Synapse's pruned links between chains: pruned
 * links must be followed transitively, which is either a recursive query or
 * loading the link graph into memory. Storing the transitively closed vector
 * (as deltas) makes every reachability question one non-recursive indexed
 * query, at the cost of more rows for events that start a chain (they store
 * their whole vector). Vectors are as long as the number of chains an event
 * reaches, which stays small because successive events of one
 * (type, state_key) share a chain (power levels, each user's membership).
 */

/** Chain id -> highest seq reached on that chain. */
export type ReachVector = Map<number, number>;

export interface EventToIndex {
  eventId: string;
  /** The event's auth_events, in any order; duplicates are ignored. */
  authEventIds: readonly string[];
  isState: boolean;
  /** A state event's type and state_key: successive events of one key then share a chain (fewer, longer chains). */
  type?: string;
  stateKey?: string;
}

/** An indexed state event, as the planner needs it. */
export interface IndexedEvent {
  chainId: number;
  seq: number;
  type: string | null;
  stateKey: string | null;
  /** What it reaches on other chains: excludes itself and its own chain. */
  reach: ReachVector;
}

export interface PlannedPosition {
  eventId: string;
  /** Negative: the n-th new chain of this plan (-1, -2, ...), to be given a real id by the caller. */
  chainId: number;
  seq: number;
  type: string | null;
  stateKey: string | null;
}

export interface PlannedReach {
  chainId: number;
  seq: number;
  targetChain: number;
  targetSeq: number;
}

export interface ChainCoverPlan {
  positions: PlannedPosition[];
  reach: PlannedReach[];
  edges: Array<{ eventId: string; authId: string }>;
  /** How many new chains the plan uses (ids -1 .. -newChains). */
  newChains: number;
}

/** An event cannot be indexed: its auth events are not (yet) indexed state events. */
export class AuthChainIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthChainIndexError';
  }
}

/**
 * Plans the index rows for `events`, given in topological order (auth events
 * before the events citing them, within the batch or already indexed).
 * `known` holds the already-indexed state events the batch cites; `tips` the
 * current highest seq of their chains. Neither is modified.
 */
export function planChainCover(
  events: readonly EventToIndex[],
  known: ReadonlyMap<string, IndexedEvent>,
  tips: ReadonlyMap<number, number>,
): ChainCoverPlan {
  const plan: ChainCoverPlan = { positions: [], reach: [], edges: [], newChains: 0 };
  const local = new Map<string, IndexedEvent>();
  const localTips = new Map(tips);
  const nonState = new Set<string>();

  const resolve = (eventId: string, authId: string): IndexedEvent => {
    const a = local.get(authId) ?? known.get(authId);
    if (a) return a;
    throw new AuthChainIndexError(
      nonState.has(authId)
        ? `auth event ${authId} of ${eventId} is not a state event`
        : `auth event ${authId} of ${eventId} is not indexed (unknown, not a state event, or out of topological order)`,
    );
  };

  for (const e of events) {
    const authIds = [...new Set(e.authEventIds)];
    const auths = authIds.map((id) => resolve(e.eventId, id));
    for (const authId of authIds) plan.edges.push({ eventId: e.eventId, authId });
    if (!e.isState) {
      nonState.add(e.eventId);
      continue;
    }

    const reach = inclusiveUnion(auths);
    const type = e.type ?? null;
    const stateKey = e.stateKey ?? null;
    const from = chooseChainToExtend(auths, localTips, type, stateKey);
    let chainId: number;
    let seq: number;
    if (from) {
      chainId = from.chainId;
      seq = from.seq + 1;
      reach.delete(chainId);
      for (const [targetChain, targetSeq] of reach) {
        if (targetSeq > (from.reach.get(targetChain) ?? 0)) plan.reach.push({ chainId, seq, targetChain, targetSeq });
      }
    } else {
      chainId = -++plan.newChains;
      seq = 1;
      for (const [targetChain, targetSeq] of reach) plan.reach.push({ chainId, seq, targetChain, targetSeq });
    }
    localTips.set(chainId, seq);
    local.set(e.eventId, { chainId, seq, type, stateKey, reach });
    plan.positions.push({ eventId: e.eventId, chainId, seq, type, stateKey });
  }
  return plan;
}

/** The union of the events' own positions and everything they reach. */
export function inclusiveUnion(events: Iterable<IndexedEvent>): ReachVector {
  const out: ReachVector = new Map();
  const raise = (chain: number, seq: number): void => {
    if (seq > (out.get(chain) ?? 0)) out.set(chain, seq);
  };
  for (const a of events) {
    raise(a.chainId, a.seq);
    for (const [chain, seq] of a.reach) raise(chain, seq);
  }
  return out;
}

/**
 * The auth event whose chain the new event extends: one that is still the tip
 * of its chain, preferably of the same (type, state_key). An event of another
 * key does not take the tip, or the key's next event would have to start a
 * new chain; without a key (the caller did not say) any tip will do.
 */
function chooseChainToExtend(
  auths: readonly IndexedEvent[],
  tips: ReadonlyMap<number, number>,
  type: string | null,
  stateKey: string | null,
): IndexedEvent | undefined {
  const atTip = auths.filter((a) => tips.get(a.chainId) === a.seq);
  if (type === null) return atTip.sort((x, y) => y.seq - x.seq || x.chainId - y.chainId)[0];
  return atTip.find((a) => a.type === type && a.stateKey === stateKey);
}
