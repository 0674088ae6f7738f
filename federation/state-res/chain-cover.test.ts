import { describe, expect, it } from 'vitest';
import { authChainUnion } from './auth-chain.ts';
import { randomDag } from '../../test/support/auth-dags.ts';
import { AuthChainIndexError, planChainCover, type ChainCoverPlan, type EventToIndex } from './chain-cover.ts';

/** name -> [auth names], with an optional state key (default: the name, i.e. every event its own key). */
function events(spec: Array<[string, string[], string?]>): EventToIndex[] {
  return spec.map(([name, auth, key]) => ({ eventId: name, authEventIds: auth, isState: true, type: 't', stateKey: key ?? name }));
}

const where = (plan: ChainCoverPlan) => Object.fromEntries(plan.positions.map((p) => [p.eventId, [p.chainId, p.seq]]));

/** The auth chain of `eventId` as the stored rows describe it (what the SQL computes). */
function expand(plan: ChainCoverPlan, evs: EventToIndex[], eventId: string): Set<string> {
  const pos = new Map(plan.positions.map((p) => [p.eventId, p]));
  const vector = new Map<number, number>();
  const raise = (c: number, s: number) => vector.set(c, Math.max(vector.get(c) ?? 0, s));
  for (const a of evs.find((e) => e.eventId === eventId)!.authEventIds) {
    const p = pos.get(a)!;
    raise(p.chainId, p.seq);
    for (const r of plan.reach) if (r.chainId === p.chainId && r.seq <= p.seq) raise(r.targetChain, r.targetSeq);
  }
  return new Set(plan.positions.filter((p) => p.seq <= (vector.get(p.chainId) ?? 0)).map((p) => p.eventId));
}

describe('planChainCover', () => {
  it.each([
    {
      name: 'a linear run of one key is one chain',
      evs: events([
        ['pl1', [], 'pl'],
        ['pl2', ['pl1'], 'pl'],
        ['pl3', ['pl2'], 'pl'],
      ]),
      want: { pl1: [-1, 1], pl2: [-1, 2], pl3: [-1, 3] },
      reachRows: 0,
    },
    {
      name: 'a fork: the second branch of one key starts a chain',
      evs: events([
        ['create', []],
        ['pl1', ['create'], 'pl'],
        ['plA', ['create', 'pl1'], 'pl'],
        ['plB', ['create', 'pl1'], 'pl'],
      ]),
      want: { create: [-1, 1], pl1: [-2, 1], plA: [-2, 2], plB: [-3, 1] },
      // pl1 -> create, plB -> create and pl1; plA adds nothing pl1 did not reach.
      reachRows: 3,
    },
    {
      name: 'a merge extends the chain of its own key',
      evs: events([
        ['create', []],
        ['m1', ['create'], 'alice'],
        ['pl', ['create', 'm1']],
        ['m2', ['create', 'pl', 'm1'], 'alice'],
      ]),
      want: { create: [-1, 1], m1: [-2, 1], pl: [-3, 1], m2: [-2, 2] },
      // m1 -> create; pl -> create, m1's chain; m2 -> pl (create it already had).
      reachRows: 4,
    },
    {
      name: 'without a key any auth event at a chain tip is extended',
      evs: [
        { eventId: 'a', authEventIds: [], isState: true },
        { eventId: 'b', authEventIds: ['a'], isState: true },
        { eventId: 'c', authEventIds: ['a', 'b'], isState: true },
      ],
      want: { a: [-1, 1], b: [-1, 2], c: [-1, 3] },
      reachRows: 0,
    },
  ])('$name', ({ evs, want, reachRows }) => {
    const plan = planChainCover(evs, new Map(), new Map());
    expect(where(plan)).toEqual(want);
    expect(plan.reach).toHaveLength(reachRows);
  });

  it('extends an already-indexed chain only at its tip', () => {
    const known = new Map([['old', { chainId: 7, seq: 3, type: 't', stateKey: 'k', reach: new Map([[2, 5]]) }]]);
    const atTip = planChainCover(events([['new', ['old'], 'k']]), known, new Map([[7, 3]]));
    expect(where(atTip)).toEqual({ new: [7, 4] });
    expect(atTip.reach).toEqual([]); // everything it reaches, old reached already
    const behindTip = planChainCover(events([['new', ['old'], 'k']]), known, new Map([[7, 4]]));
    expect(where(behindTip)).toEqual({ new: [-1, 1] });
    expect(behindTip.reach).toEqual([
      { chainId: -1, seq: 1, targetChain: 7, targetSeq: 3 },
      { chainId: -1, seq: 1, targetChain: 2, targetSeq: 5 },
    ]);
  });

  it('records non-state events as edges only, and dedupes auth events', () => {
    const plan = planChainCover(
      [...events([['create', []]]), { eventId: 'msg', authEventIds: ['create', 'create'], isState: false }],
      new Map(),
      new Map(),
    );
    expect(plan.positions.map((p) => p.eventId)).toEqual(['create']);
    expect(plan.edges).toEqual([{ eventId: 'msg', authId: 'create' }]);
  });

  it.each([
    { name: 'an unknown auth event', evs: events([['a', ['nowhere']]]), message: /nowhere of a is not indexed/ },
    {
      name: 'out of topological order',
      evs: events([
        ['b', ['a']],
        ['a', []],
      ]),
      message: /a of b is not indexed/,
    },
    {
      name: 'a non-state auth event',
      evs: [{ eventId: 'msg', authEventIds: [], isState: false }, ...events([['s', ['msg']]])],
      message: /msg of s is not a state event/,
    },
  ])('refuses $name', ({ evs, message }) => {
    expect(() => planChainCover(evs, new Map(), new Map())).toThrow(AuthChainIndexError);
    expect(() => planChainCover(evs, new Map(), new Map())).toThrow(message);
  });

  it.each([1, 2, 3, 4, 5])('random DAG (seed %i): every expanded auth chain equals the walk', (seed) => {
    const dag = randomDag(seed, 300);
    const plan = planChainCover(dag.events, new Map(), new Map());
    for (const e of dag.events) expect(expand(plan, dag.events, e.eventId)).toEqual(authChainUnion([e.eventId], dag.fetch));
  });
});
