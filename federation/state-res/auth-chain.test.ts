import { describe, expect, it } from 'vitest';
import type { Pdu } from '../events/pdu.ts';
import { authChain, authChainUnion, authDifference, conflictedStateSubgraph, fullAuthChain } from './auth-chain.ts';
import { ALICE, fetcherOf, pdu } from './test-fixtures.ts';

/** A tiny auth DAG from name -> auth event names. */
function dag(edges: Record<string, string[]>): (id: string) => Pdu | undefined {
  return fetcherOf(
    Object.entries(edges).map(([name, auth]) =>
      pdu({ id: name, type: 'x', sender: ALICE, state_key: name, auth_events: auth.map((a) => `$${a}`) }),
    ),
  );
}
const names = (s: Iterable<string>): string[] => [...s].map((id) => id.slice(1)).sort();

describe('auth chains', () => {
  //   C <- A <- X        (X cites A cites C)
  //   C <- B <- X
  //   C <- B <- Y
  const fetch = dag({ C: [], A: ['C'], B: ['C'], X: ['A', 'B'], Y: ['B'] });

  it.each([
    { start: ['X'], want: ['A', 'B', 'C'] },
    { start: ['Y'], want: ['B', 'C'] },
    { start: ['C'], want: [] },
    { start: ['X', 'A'], want: ['A', 'B', 'C'] }, // A is included because X reaches it
  ])('authChainUnion($start) excludes the starting events themselves', ({ start, want }) => {
    expect(
      names(
        authChainUnion(
          start.map((n) => `$${n}`),
          fetch,
        ),
      ),
    ).toEqual(want);
  });

  it('authChain of one event', () => {
    expect(names(authChain('$Y', fetch))).toEqual(['B', 'C']);
  });

  it('stops at events it cannot fetch but still reports their ids', () => {
    const partial = dag({ A: ['GONE'] });
    expect(names(authChainUnion(['$A'], partial))).toEqual(['GONE']);
  });

  it('uses an injected authChainOf instead of walking', () => {
    const injected = (id: string): ReadonlySet<string> => new Set([`${id}-chain`]);
    expect([...authChainUnion(['$p', '$q'], () => undefined, injected)].sort()).toEqual(['$p-chain', '$q-chain']);
  });

  it('fullAuthChain of a state set includes the state events themselves', () => {
    expect(names(fullAuthChain(['$Y', '$A'], fetch))).toEqual(['A', 'B', 'C', 'Y']);
  });

  it.each([
    {
      name: 'identical chains',
      chains: [
        ['a', 'b'],
        ['b', 'a'],
      ],
      want: [],
    },
    {
      name: 'union minus intersection',
      chains: [
        ['a', 'b', 'c'],
        ['b', 'c', 'd'],
        ['c', 'e'],
      ],
      want: ['a', 'b', 'd', 'e'],
    },
    { name: 'single set', chains: [['a']], want: [] },
    { name: 'no sets', chains: [], want: [] },
  ])('authDifference: $name', ({ chains, want }) => {
    expect([...authDifference(chains.map((c) => new Set(c)))].sort()).toEqual(want);
  });
});

describe('conflictedStateSubgraph (v2.1)', () => {
  // K2 -> M -> K1 -> R   (K1, K2 conflicted; M lies on the path between them)
  // K2 -> S              (S is below K2 but leads to no conflicted event)
  // K1 -> R              (R is below every conflicted event)
  // U  -> K1             (U is above K1 but is not reachable from a conflicted event)
  const fetch = dag({ R: [], K1: ['R'], M: ['K1'], S: ['R'], K2: ['M', 'S'], U: ['K1'] });

  it.each([
    {
      name: 'path between two conflicted events, endpoints included',
      conflicted: ['K1', 'K2'],
      want: ['K1', 'K2', 'M'],
    },
    { name: 'a single conflicted event is its own subgraph', conflicted: ['K2'], want: ['K2'] },
    { name: 'unrelated conflicted events', conflicted: ['S', 'K1'], want: ['K1', 'S'] },
    { name: 'three on one path', conflicted: ['R', 'K2', 'K1'], want: ['K1', 'K2', 'M', 'R', 'S'] },
  ])('$name', ({ conflicted, want }) => {
    expect(names(conflictedStateSubgraph(new Set(conflicted.map((n) => `$${n}`)), fetch))).toEqual(want);
  });
});
