import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stateKey, type StateMap } from '../events/pdu.ts';
import { compareAuthEventsV1, compareOtherEventsV1, partitionStateV1, resolveStateV1 } from './state-res-v1.ts';
import { resolveState } from './state-res-v2.ts';
import { ALICE, BOB, CHARLIE, ELLA, RoomGraph, fakeAuth, fetcherOf, member, pdu, powerLevels, topic, version } from './test-fixtures.ts';

const PL = 'm.room.power_levels|';
const TOPIC = 'm.room.topic|';
const JR = 'm.room.join_rules|';
const mem = (user: string): string => `m.room.member|${user}`;
const V1 = version('1');
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

describe('partitionStateV1', () => {
  const A = stateKey('m.room.topic', '');
  const B = stateKey('m.room.name', '');
  it.each<[string, Array<Array<[string, string]>>, Record<string, string>, Record<string, string[]>]>([
    ['identical states', [[[A, '$1']], [[A, '$1']]], { [A]: '$1' }, {}],
    [
      'a key only some states have is not a conflict',
      [
        [[A, '$1']],
        [
          [A, '$1'],
          [B, '$2'],
        ],
      ],
      { [A]: '$1', [B]: '$2' },
      {},
    ],
    ['different ids for one key conflict', [[[A, '$1']], [[A, '$2']], [[A, '$1']]], {}, { [A]: ['$1', '$2'] }],
    ['no states', [], {}, {}],
  ])('%s', (_name, sets, unconflicted, conflicted) => {
    const result = partitionStateV1(sets.map((s) => new Map(s)));
    expect(Object.fromEntries(result.unconflicted)).toEqual(unconflicted);
    expect(Object.fromEntries([...result.conflicted].map(([k, ids]) => [k, [...ids].sort()]))).toEqual(conflicted);
  });
});

describe('v1 orderings', () => {
  const [lo, hi] = ['$a', '$b', '$c', '$d'].sort((x, y) => (sha1(x) < sha1(y) ? -1 : 1)) as [string, string];
  const e = (id: string, depth: number) => pdu({ id: id.slice(1), type: 'm.room.topic', sender: ALICE, depth });
  it.each<[string, ReturnType<typeof e>, ReturnType<typeof e>, number]>([
    ['auth events: lower depth first', e(hi, 1), e(lo, 2), -1],
    ['auth events: same depth, higher sha1 first', e(lo, 3), e(hi, 3), 1],
    ['auth events: the same event ties', e(lo, 3), e(lo, 3), 0],
  ])('%s', (_name, a, b, sign) => {
    expect(Math.sign(compareAuthEventsV1(a, b))).toBe(sign);
    // Other events use the opposite order: highest depth, then lowest sha1.
    expect(Math.sign(compareOtherEventsV1(a, b))).toBe(sign === 0 ? 0 : -sign);
  });
});

describe('resolveStateV1', () => {
  it('power levels conflict: candidates apply in depth order while they pass auth', () => {
    const g = RoomGraph.standard(V1);
    g.add('PA', powerLevels(ALICE, g.powerLevels({ [BOB]: 50 })), ['IMZ']);
    g.add('PB', powerLevels(ALICE, g.powerLevels({ [BOB]: 50, [CHARLIE]: 50 })), ['PA']);
    expect(g.named(g.resolve(['PA', 'PB']))[PL]).toBe('PB');
  });

  it('power levels conflict: the first candidate failing auth ends the key, even if a later one would pass', () => {
    const g = RoomGraph.standard(V1);
    g.add('PA', powerLevels(ALICE, g.powerLevels({ [BOB]: 50 })), ['IMZ']); // depth 8
    g.add('T1', topic(ALICE, 'one'), ['IMZ']);
    // Bob (50 under PA) promotes charlie above himself: fails against R = {PA}.
    g.add('PB', powerLevels(BOB, g.powerLevels({ [BOB]: 50, [CHARLIE]: 60 })), ['T1']); // depth 9
    g.add('T2', topic(ALICE, 'two'), ['IMZ']);
    g.add('T3', topic(ALICE, 'three'), ['T2']);
    g.add('PC', powerLevels(ALICE, g.powerLevels({ [CHARLIE]: 10 })), ['T3']); // depth 10, would pass
    const s = g.named(g.resolve(['PA', 'PB', 'PC']));
    expect(s[PL]).toBe('PA');
    // Topics are "other" events: the highest depth that passes wins.
    expect(s[TOPIC]).toBe('T3');
  });

  it('member conflict is resolved against the resolved power levels: a ban applies after the join', () => {
    const g = RoomGraph.standard(V1);
    g.add('MB', member(ALICE, BOB, 'ban'), ['IMZ']);
    g.add('TZ', topic(ALICE, 'other branch'), ['IMZ']);
    const s = g.named(g.resolve(['MB', 'TZ']));
    expect(s[mem(BOB)]).toBe('MB');
    expect(s[TOPIC]).toBe('TZ');
  });

  it('a join concurrent with a switch to invite-only survives (no conflict in v1), unlike v2', () => {
    const g = RoomGraph.standard(V1);
    g.add('JR', { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'invite' } }, ['IMZ']);
    g.add('ME', member(ELLA, ELLA, 'join'), ['IMZ']);
    const s = g.named(g.resolve(['JR', 'ME']));
    expect(s[JR]).toBe('JR');
    expect(s[mem(ELLA)]).toBe('ME');
    // The same graph under v2 rejects the join.
    const states: StateMap[] = [g.resolve(['JR']), g.resolve(['ME'])];
    expect(g.named(resolveState(states, g.fetch, version('10'), fakeAuth))[mem(ELLA)]).toBeUndefined();
  });

  it('other events: a candidate failing auth in the resolved state loses to a lower one', () => {
    const g = RoomGraph.standard(V1);
    g.add('PA', powerLevels(ALICE, g.powerLevels({ [BOB]: 50 })), ['IMZ']);
    g.add('TB', topic(BOB, 'bob'), ['PA']);
    g.add('PD', powerLevels(ALICE, g.powerLevels({ [BOB]: 0 })), ['TB']);
    g.add('TA', topic(ALICE, 'alice'), ['IMZ']);
    const s = g.named(g.resolve(['PD', 'TA']));
    expect(s[PL]).toBe('PD');
    // TB is deeper but bob is back to 0, below state_default.
    expect(s[TOPIC]).toBe('TA');
  });

  it('other events at the same depth: the lowest sha1(event_id) wins', () => {
    const g = RoomGraph.standard(V1);
    g.add('X', topic(ALICE, 'x'), ['IMZ']);
    g.add('Y', topic(ALICE, 'y'), ['IMZ']);
    const expected = sha1('$X') < sha1('$Y') ? 'X' : 'Y';
    expect(g.named(g.resolve(['X', 'Y']))[TOPIC]).toBe(expected);
    expect(g.named(g.resolve(['Y', 'X']))[TOPIC]).toBe(expected);
  });

  it('no conflicts: the union of the states', () => {
    const a = pdu({ id: 'a', type: 'm.room.topic', sender: ALICE, state_key: '' });
    const b = pdu({ id: 'b', type: 'm.room.name', sender: ALICE, state_key: '' });
    const states = [new Map([[stateKey('m.room.topic', ''), '$a']]), new Map([[stateKey('m.room.name', ''), '$b']])];
    const out = resolveStateV1(states, fetcherOf([a, b]), V1, fakeAuth);
    expect(Object.fromEntries(out)).toEqual(Object.fromEntries([...states[0]!, ...states[1]!]));
  });

  it('conflicting events that cannot be fetched fail the resolution, naming them', () => {
    const a = pdu({ id: 'a', type: 'm.room.topic', sender: ALICE, state_key: '' });
    const states = [new Map([[stateKey('m.room.topic', ''), '$a']]), new Map([[stateKey('m.room.topic', ''), '$missing']])];
    const create = pdu({ id: 'c', type: 'm.room.create', sender: ALICE, state_key: '', content: { creator: ALICE } });
    const join = pdu({ id: 'j', type: 'm.room.member', sender: ALICE, state_key: ALICE, content: { membership: 'join' } });
    const shared: Array<[string, string]> = [
      [stateKey('m.room.create', ''), '$c'],
      [stateKey('m.room.member', ALICE), '$j'],
    ];
    const withShared = states.map((s) => new Map([...shared, ...s]));
    expect(() => resolveStateV1(withShared, fetcherOf([a, create, join]), V1, fakeAuth)).toThrow(
      expect.objectContaining({ name: 'MissingEventsError', eventIds: ['$missing'] }),
    );
  });
});
