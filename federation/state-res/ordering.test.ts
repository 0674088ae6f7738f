import { describe, expect, it } from 'vitest';
import type { Pdu } from '../events/pdu.ts';
import {
  compareMainlineOrder,
  comparePowerOrder,
  mainline,
  mainlineOrder,
  mainlinePosition,
  reverseTopologicalPowerOrder,
  type MainlineSortKey,
  type PowerSortKey,
} from './ordering.ts';
import { ALICE, fetcherOf, pdu } from './test-fixtures.ts';

describe('comparePowerOrder', () => {
  const k = (eventId: string, power: number, originServerTs: number): PowerSortKey => ({
    eventId,
    power,
    originServerTs,
  });
  it.each([
    { name: 'greater power sorts first despite later ts', x: k('$b', 100, 9), y: k('$a', 50, 1), want: -1 },
    { name: 'lower power sorts last', x: k('$a', 0, 1), y: k('$b', 50, 9), want: 1 },
    { name: 'same power: earlier ts first', x: k('$b', 50, 1), y: k('$a', 50, 2), want: -1 },
    { name: 'same power and ts: smaller id first', x: k('$a', 50, 1), y: k('$b', 50, 1), want: -1 },
    { name: 'same power and ts: larger id last', x: k('$b', 50, 1), y: k('$a', 50, 1), want: 1 },
    { name: 'identical', x: k('$a', 50, 1), y: k('$a', 50, 1), want: 0 },
    { name: 'infinite (v12 creator) beats any integer', x: k('$z', Infinity, 9), y: k('$a', 2 ** 53 - 1, 1), want: -1 },
    { name: 'two infinities tie, then ts', x: k('$z', Infinity, 1), y: k('$a', Infinity, 2), want: -1 },
  ])('$name', ({ x, y, want }) => {
    expect(Math.sign(comparePowerOrder(x, y))).toBe(want);
    expect(Math.sign(comparePowerOrder(y, x))).toBe(want === 0 ? 0 : -want);
  });
});

describe('compareMainlineOrder', () => {
  const k = (eventId: string, position: number, originServerTs: number): MainlineSortKey => ({
    eventId,
    position,
    originServerTs,
  });
  it.each([
    { name: 'greater position (older mainline event) first', x: k('$b', 2, 9), y: k('$a', 0, 1), want: -1 },
    { name: 'no mainline event (Infinity) first of all', x: k('$b', Infinity, 9), y: k('$a', 5, 1), want: -1 },
    { name: 'same position: earlier ts first', x: k('$b', 1, 1), y: k('$a', 1, 2), want: -1 },
    { name: 'same position and ts: smaller id first', x: k('$a', 1, 1), y: k('$b', 1, 1), want: -1 },
    { name: 'both Infinity: ts decides', x: k('$a', Infinity, 2), y: k('$b', Infinity, 1), want: 1 },
  ])('$name', ({ x, y, want }) => {
    expect(Math.sign(compareMainlineOrder(x, y))).toBe(want);
    expect(Math.sign(compareMainlineOrder(y, x))).toBe(want === 0 ? 0 : -want);
  });
});

describe('reverseTopologicalPowerOrder', () => {
  // Events: name, auth events (names), power of sender, ts.
  type Spec = [name: string, auth: string[], power: number, ts: number];
  const run = (specs: Spec[], subset?: string[]): string[] => {
    const events = specs.map(([name, auth, , ts]) =>
      pdu({
        id: name,
        type: 'm.room.power_levels',
        sender: ALICE,
        state_key: '',
        auth_events: auth.map((a) => `$${a}`),
        origin_server_ts: ts,
      }),
    );
    const power = new Map(specs.map(([name, , p]) => [`$${name}`, p]));
    const ids = (subset ?? specs.map(([name]) => name)).map((n) => `$${n}`);
    return reverseTopologicalPowerOrder(ids, fetcherOf(events), (e: Pdu) => power.get(e.event_id) ?? 0).map((id) => id.slice(1));
  };

  it.each<{ name: string; specs: Spec[]; subset?: string[]; want: string[] }>([
    {
      name: 'independent events: power, then ts, then id',
      specs: [
        ['A', [], 0, 1],
        ['B', [], 100, 5],
        ['C', [], 50, 3],
        ['D', [], 50, 2],
        ['F', [], 50, 2],
        ['E', [], 50, 2],
      ],
      want: ['B', 'D', 'E', 'F', 'C', 'A'],
    },
    {
      name: 'auth edges win over power: a powerful child waits for its parent',
      specs: [
        ['P', [], 0, 1],
        ['C', ['P'], 100, 2],
      ],
      want: ['P', 'C'],
    },
    {
      name: 'Kahn picks the smallest candidate at each step (lexicographically smallest order)',
      specs: [
        ['A', [], 10, 1],
        ['B', [], 50, 2],
        ['C', ['A'], 100, 3],
      ],
      // Candidates {A, B}: B (50) first; then A; only then C becomes a candidate.
      want: ['B', 'A', 'C'],
    },
    {
      name: 'a child becomes candidate only when all its parents are out',
      specs: [
        ['R', [], 0, 1],
        ['X', ['R'], 100, 2],
        ['Y', ['R'], 10, 3],
        ['Z', ['X', 'Y'], 100, 4],
      ],
      want: ['R', 'X', 'Y', 'Z'],
    },
    {
      name: 'infinite power (v12 creator) first among candidates',
      specs: [
        ['A', [], 100, 1],
        ['B', [], Infinity, 2],
      ],
      want: ['B', 'A'],
    },
    {
      name: 'edges to events outside the set are ignored',
      specs: [
        ['OUT', [], 0, 1],
        ['A', ['OUT'], 0, 3],
        ['B', ['OUT'], 50, 4],
      ],
      subset: ['A', 'B'],
      want: ['B', 'A'],
    },
  ])('$name', ({ specs, subset, want }) => {
    expect(run(specs, subset)).toEqual(want);
  });

  it('drops ids it cannot fetch', () => {
    const a = pdu({ id: 'A', type: 't', sender: ALICE, state_key: '' });
    expect(reverseTopologicalPowerOrder(['$A', '$missing'], fetcherOf([a]), () => 0)).toEqual(['$A']);
  });

  it('throws on an auth cycle rather than silently dropping events', () => {
    const a = pdu({ id: 'A', type: 't', sender: ALICE, state_key: '', auth_events: ['$B'] });
    const b = pdu({ id: 'B', type: 't', sender: ALICE, state_key: '', auth_events: ['$A'] });
    expect(() => reverseTopologicalPowerOrder(['$A', '$B'], fetcherOf([a, b]), () => 0)).toThrow(/cycle/);
  });
});

describe('mainline ordering', () => {
  // Power levels chain P3 -> P2 -> P1 -> P0 (each citing the previous), plus
  // a side branch Q1 -> P1 that is not on the mainline of P3.
  const pl = (id: string, prev?: string): Pdu =>
    pdu({
      id,
      type: 'm.room.power_levels',
      sender: ALICE,
      state_key: '',
      auth_events: prev ? [`$C`, `$${prev}`] : ['$C'],
    });
  const create = pdu({ id: 'C', type: 'm.room.create', sender: ALICE, state_key: '' });
  const chain = [pl('P0'), pl('P1', 'P0'), pl('P2', 'P1'), pl('P3', 'P2'), pl('Q1', 'P1'), pl('Q2', 'Q1')];
  const ev = (id: string, plId: string | undefined, ts: number): Pdu =>
    pdu({
      id,
      type: 'm.room.topic',
      sender: ALICE,
      state_key: '',
      origin_server_ts: ts,
      auth_events: plId ? ['$C', `$${plId}`] : ['$C'],
    });
  const all = [create, ...chain];
  const fetch = fetcherOf(all);

  it('mainline follows power levels auth events back to the first one', () => {
    expect(mainline('$P3', fetch)).toEqual(['$P3', '$P2', '$P1', '$P0']);
  });

  const positions = new Map(mainline('$P3', fetch).map((id, i) => [id, i]));
  it.each([
    { name: 'cites the resolved power levels (P0 of the mainline)', event: ev('e', 'P3', 1), want: 0 },
    { name: 'cites an older mainline event', event: ev('e', 'P1', 1), want: 2 },
    { name: 'cites a side branch that rejoins the mainline', event: ev('e', 'Q2', 1), want: 2 },
    { name: 'cites no power levels at all', event: ev('e', undefined, 1), want: Infinity },
    // e0 is excluded: a mainline event's own position is that of its parent.
    { name: 'a mainline event itself starts from its auth events', event: chain[2] as Pdu, want: 2 },
  ])('mainlinePosition: $name', ({ event, want }) => {
    expect(mainlinePosition(event, positions, fetch)).toBe(want);
  });

  it.each<{ name: string; events: Pdu[]; pl: string | undefined; want: string[] }>([
    {
      name: 'older mainline position first, regardless of timestamps',
      events: [ev('new', 'P3', 1), ev('old', 'P0', 9), ev('mid', 'Q1', 5)],
      pl: '$P3',
      want: ['old', 'mid', 'new'],
    },
    {
      name: 'same position: ts, then id',
      events: [ev('b', 'P2', 2), ev('a', 'P2', 2), ev('c', 'P2', 1)],
      pl: '$P3',
      want: ['c', 'a', 'b'],
    },
    {
      name: 'no resolved power levels: everything at Infinity, ts then id',
      events: [ev('x', 'P3', 3), ev('y', 'P0', 2), ev('z', undefined, 2)],
      pl: undefined,
      want: ['y', 'z', 'x'],
    },
    {
      name: 'events off the mainline go before events on it',
      events: [ev('on', 'P0', 1), ev('off', undefined, 2)],
      pl: '$P3',
      want: ['off', 'on'],
    },
  ])('mainlineOrder: $name', ({ events, pl: plId, want }) => {
    const f = fetcherOf([...all, ...events]);
    expect(
      mainlineOrder(
        events.map((e) => e.event_id),
        plId,
        f,
      ).map((id) => id.slice(1)),
    ).toEqual(want);
  });
});
